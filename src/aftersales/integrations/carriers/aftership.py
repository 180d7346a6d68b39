"""AfterShip: a tracking (REST: `data.tracking`, `data` itself, or a list in `data.trackings`) and the
`tracking_update` webhook (the tracking in `msg`).

Each checkpoint maps by its `subtag` (sub-status); a subtag AfterShip added after this table was
written falls back to the checkpoint's `tag`. Kept code: the subtag, else the tag.
Time: `checkpoint_time` with its offset; AfterShip documents it as the local time of the
checkpoint, so one without an offset is read in the zone of the checkpoint's country
(`country_iso3` / `country_region`) when that country has a single zone, else UTC. A date alone
is midnight there."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from aftersales.integrations.carriers.model import (
    SKIP,
    Maps,
    Node,
    PayloadError,
    Reason,
    Scan,
    Tracking,
    arr,
    exc,
    instant,
    join,
    make_scan,
    obj,
    text,
    zone_of_country,
)

FORMAT = "aftership"
UTC_ZONE = ZoneInfo("UTC")

TAG: dict[str, Maps] = {
    "Pending": SKIP,
    "InfoReceived": Maps(Node.INFO_RECEIVED),
    "InTransit": Maps(Node.IN_TRANSIT),
    "OutForDelivery": Maps(Node.OUT_FOR_DELIVERY),
    "AttemptFail": exc(Reason.FAILED_DELIVERY),
    "Delivered": Maps(Node.DELIVERED),
    "AvailableForPickup": Maps(Node.ARRIVED_STATION),
    "Exception": exc(Reason.OTHER),
    "Expired": SKIP,
}
SUBTAG: dict[str, Maps] = {
    "Delivered_001": Maps(Node.DELIVERED),
    "Delivered_002": Maps(Node.DELIVERED),  # picked up by the customer
    "Delivered_003": Maps(Node.DELIVERED),  # signed by the customer
    "Delivered_004": Maps(Node.DELIVERED),  # delivered, cash collected
    "AvailableForPickup_001": Maps(Node.ARRIVED_STATION),
    "Exception_001": exc(Reason.OTHER),
    "Exception_002": exc(Reason.BAD_ADDRESS),  # customer moved
    "Exception_003": exc(Reason.REFUSED),
    "Exception_004": exc(Reason.CUSTOMS_HOLD),  # delayed in customs clearance
    "Exception_005": exc(Reason.OTHER),  # delayed by external factors
    "Exception_006": exc(Reason.OTHER),  # held for payment
    "Exception_007": exc(Reason.BAD_ADDRESS),
    "Exception_008": exc(Reason.FAILED_DELIVERY),  # pick-up missed
    "Exception_009": exc(Reason.OTHER),  # rejected by the carrier
    "Exception_010": Maps(Node.RETURNED),  # returning to sender
    "Exception_011": Maps(Node.RETURNED),  # returned to sender
    "Exception_012": exc(Reason.DAMAGED),
    "Exception_013": exc(Reason.LOST),
    "AttemptFail_001": exc(Reason.FAILED_DELIVERY),
    "AttemptFail_002": exc(Reason.FAILED_DELIVERY),  # addressee not available
    "AttemptFail_003": exc(Reason.FAILED_DELIVERY),  # business closed
    "InTransit_001": Maps(Node.IN_TRANSIT),
    "InTransit_002": Maps(Node.PICKED_UP),  # acceptance scan
    "InTransit_003": Maps(Node.ARRIVED_HUB),  # arrival scan
    "InTransit_004": Maps(Node.ARRIVED_HUB),  # arrived in the destination country
    "InTransit_005": Maps(Node.IN_TRANSIT),  # customs clearance completed
    "InTransit_006": Maps(Node.IN_TRANSIT),  # customs clearance started
    "InTransit_007": Maps(Node.DEPARTED_HUB),  # departure scan
    "InTransit_008": Maps(Node.IN_TRANSIT),  # problem resolved
    "InTransit_009": Maps(Node.IN_TRANSIT),  # forwarded to another address
    "InfoReceived_001": Maps(Node.INFO_RECEIVED),
    "OutForDelivery_001": Maps(Node.OUT_FOR_DELIVERY),
    "OutForDelivery_003": Maps(Node.OUT_FOR_DELIVERY),  # customer contacted
    "OutForDelivery_004": Maps(Node.OUT_FOR_DELIVERY),  # delivery appointment scheduled
    "Pending_001": SKIP,
    "Pending_002": SKIP,
    "Pending_003": SKIP,
    "Pending_004": SKIP,
    "Pending_005": SKIP,
    "Pending_006": SKIP,
    "Expired_001": SKIP,
}


def classify(tag: str, subtag: str, where: str) -> tuple[Maps, str]:
    """The mapping and the code kept: the subtag when known, else the tag."""
    if subtag in SUBTAG:
        return SUBTAG[subtag], subtag
    if tag in TAG:
        return TAG[tag], subtag or tag
    if subtag:
        raise PayloadError(f"{where}.subtag", f"'{subtag}' (tag '{tag}') is not an AfterShip sub-status we know")
    raise PayloadError(f"{where}.tag", f"'{tag}' is not an AfterShip status we know" if tag else "missing")


def parse(payload: object) -> list[Tracking]:
    body = obj(payload, "(payload)")
    if "msg" in body:
        event = text(body, "event", "", required=False)
        if event and event != "tracking_update":
            raise PayloadError("event", f"'{event}' is an AfterShip webhook without a tracking's checkpoints")
        return [_tracking(obj(body["msg"], "msg"), "msg")]
    if "data" in body:
        data = obj(body["data"], "data")
        if "trackings" in data:
            items = arr(data["trackings"], "data.trackings")
            return [_tracking(obj(t, f"data.trackings[{i}]"), f"data.trackings[{i}]") for i, t in enumerate(items)]
        if "tracking" in data:
            return [_tracking(obj(data["tracking"], "data.tracking"), "data.tracking")]
        return [_tracking(data, "data")]
    if "tracking_number" in body:
        return [_tracking(body, "")]
    raise PayloadError("msg", "neither an AfterShip webhook (msg) nor a tracking (data.tracking, data.trackings)")


def _tracking(tracking: Mapping[str, object], where: str) -> Tracking:
    prefix = f"{where}." if where else ""
    number = text(tracking, "tracking_number", where)
    carrier = text(tracking, "slug", where, required=False)
    scans: list[Scan] = []
    skipped = 0
    for i, raw in enumerate(arr(tracking.get("checkpoints") or [], f"{prefix}checkpoints")):
        at = f"{prefix}checkpoints[{i}]"
        point = obj(raw, at)
        mapped, code = classify(text(point, "tag", at, required=False), text(point, "subtag", at, required=False), at)
        if mapped.node is None:
            skipped += 1
            continue
        country = text(point, "country_iso3", at, required=False) or text(point, "country_region", at, required=False)
        zone = zone_of_country(country) or UTC_ZONE
        when = instant(point.get("checkpoint_time"), f"{at}.checkpoint_time", zone)
        place = text(point, "location", at, required=False) or join(point.get("city"), point.get("state"), country)
        scans.append(make_scan(number, mapped, code, when, place, text(point, "message", at, required=False), at))
    return Tracking(number, carrier, tuple(scans), f"{prefix}tracking_number", skipped)
