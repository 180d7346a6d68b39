"""EasyPost: the Tracker object (GET /v2/trackers, a list of them) and its webhook Event
(`tracker.created` / `tracker.updated`, the Tracker in `result`).

Each TrackingDetail maps by its `status_detail` when that is specific, else by its `status`; a
delivered or returned status wins over any detail. Kept code: "status/status_detail".
Time: `datetime` with its offset; without one it is UTC, as EasyPost documents ("when location
information is incomplete, timestamps default to UTC")."""

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
    lookup,
    make_scan,
    obj,
    text,
)

FORMAT = "easypost"
UTC_ZONE = ZoneInfo("UTC")

STATUS: dict[str, Maps] = {
    "unknown": SKIP,
    "pre_transit": Maps(Node.INFO_RECEIVED),
    "in_transit": Maps(Node.IN_TRANSIT),
    "out_for_delivery": Maps(Node.OUT_FOR_DELIVERY),
    "delivered": Maps(Node.DELIVERED),
    "available_for_pickup": Maps(Node.ARRIVED_STATION),
    "return_to_sender": Maps(Node.RETURNED),
    "failure": exc(Reason.FAILED_DELIVERY),
    "cancelled": exc(Reason.OTHER),
    "error": SKIP,
}
# None: the detail says nothing more than the status, which decides.
STATUS_DETAIL: dict[str, Maps | None] = {
    "address_correction": Maps(Node.IN_TRANSIT),
    "arrived_at_destination": Maps(Node.ARRIVED_HUB),
    "arrived_at_facility": Maps(Node.ARRIVED_HUB),
    "arrived_at_pickup_location": Maps(Node.ARRIVED_STATION),
    "awaiting_information": None,
    "cancelled": exc(Reason.OTHER),
    "damaged": exc(Reason.DAMAGED),
    "delayed": exc(Reason.OTHER),
    "delivery_exception": exc(Reason.FAILED_DELIVERY),
    "departed_facility": Maps(Node.DEPARTED_HUB),
    "departed_origin_facility": Maps(Node.DEPARTED_HUB),
    "expired": SKIP,
    "failure": exc(Reason.FAILED_DELIVERY),
    "held": exc(Reason.OTHER),
    "in_transit": None,
    "label_created": Maps(Node.INFO_RECEIVED),
    "lost": exc(Reason.LOST),
    "missorted": exc(Reason.OTHER),
    "out_for_delivery": Maps(Node.OUT_FOR_DELIVERY),
    "received_at_destination_facility": Maps(Node.ARRIVED_HUB),
    "received_at_origin_facility": Maps(Node.PICKED_UP),
    "refused": exc(Reason.REFUSED),
    "return": Maps(Node.RETURNED),
    "status_update": None,
    "transferred_to_destination_carrier": Maps(Node.IN_TRANSIT),
    "transit_exception": exc(Reason.OTHER),
    "unknown": None,
    "weather_delay": exc(Reason.OTHER),
}
_TERMINAL = {"delivered", "return_to_sender"}


def classify(status: str, detail: str, where: str) -> Maps:
    by_status = lookup(STATUS, status, f"{where}.status", "EasyPost status")
    if not detail or status in _TERMINAL:
        return by_status
    if detail not in STATUS_DETAIL:
        raise PayloadError(f"{where}.status_detail", f"'{detail}' is not an EasyPost status_detail we know")
    return STATUS_DETAIL[detail] or by_status


def parse(payload: object) -> list[Tracking]:
    body = obj(payload, "(payload)")
    if body.get("object") == "Event":
        kind = text(body, "description", "")
        if not kind.startswith("tracker."):
            raise PayloadError("description", f"'{kind}' is an EasyPost event about something else than a tracker")
        return [_tracker(obj(body.get("result"), "result"), "result")]
    if "trackers" in body:
        return [
            _tracker(obj(t, f"trackers[{i}]"), f"trackers[{i}]")
            for i, t in enumerate(arr(body["trackers"], "trackers"))
        ]
    if body.get("object") == "Tracker" or "tracking_code" in body:
        return [_tracker(body, "")]
    raise PayloadError("object", "neither an EasyPost Tracker, a list of trackers nor a tracker Event")


def _tracker(tracker: Mapping[str, object], where: str) -> Tracking:
    prefix = f"{where}." if where else ""
    number = text(tracker, "tracking_code", where)
    carrier = text(tracker, "carrier", where, required=False)
    scans: list[Scan] = []
    skipped = 0
    for i, raw in enumerate(arr(tracker.get("tracking_details") or [], f"{prefix}tracking_details")):
        at = f"{prefix}tracking_details[{i}]"
        detail = obj(raw, at)
        status = text(detail, "status", at)
        status_detail = text(detail, "status_detail", at, required=False)
        mapped = classify(status, status_detail, at)
        if mapped.node is None:
            skipped += 1
            continue
        location = detail.get("tracking_location")
        place = ""
        if isinstance(location, Mapping):
            place = join(location.get("city"), location.get("state"), location.get("country"))
        when = instant(detail.get("datetime"), f"{at}.datetime", UTC_ZONE)
        code = f"{status}/{status_detail}" if status_detail else status
        message = text(detail, "message", at, required=False) or text(detail, "description", at, required=False)
        scans.append(make_scan(number, mapped, code, when, place, message, at))
    return Tracking(number, carrier, tuple(scans), f"{prefix}tracking_code", skipped)
