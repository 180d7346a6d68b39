"""17TRACK (API v2): the `TRACKING_UPDATED` push (and `TRACKING_STOPPED`, which carries no scans),
and the gettrackinfo response (`data.accepted`, one tracking each).

Each event of every provider maps by its `sub_status`, whose prefix is the main status (main status ×
sub-status); a sub-status added after this table falls back to its main status; an event without
one maps by its `stage`. Kept code: the sub-status (else the stage).
Time: `time_utc`, else `time_iso` with its offset, else `time_raw` (date, time and timezone). A raw
time without a zone is the carrier's local time: read in the zone of the event's country (else the
provider's country; Chinese carriers: Asia/Shanghai) when it has a single zone, else UTC."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    zone_of_offset,
)

FORMAT = "17track"
UTC_ZONE = ZoneInfo("UTC")

MAIN_STATUS: dict[str, Maps] = {
    "NotFound": SKIP,
    "InfoReceived": Maps(Node.INFO_RECEIVED),
    "InTransit": Maps(Node.IN_TRANSIT),
    "Expired": SKIP,
    "AvailableForPickup": Maps(Node.ARRIVED_STATION),
    "OutForDelivery": Maps(Node.OUT_FOR_DELIVERY),
    "DeliveryFailure": exc(Reason.FAILED_DELIVERY),
    "Delivered": Maps(Node.DELIVERED),
    "Exception": exc(Reason.OTHER),
}
SUB_STATUS: dict[str, Maps] = {
    "NotFound_Other": SKIP,
    "NotFound_InvalidCode": SKIP,
    "InfoReceived": Maps(Node.INFO_RECEIVED),
    "InTransit_PickedUp": Maps(Node.PICKED_UP),
    "InTransit_Other": Maps(Node.IN_TRANSIT),
    "InTransit_Departure": Maps(Node.DEPARTED_HUB),
    "InTransit_Arrival": Maps(Node.ARRIVED_HUB),
    "InTransit_CustomsProcessing": Maps(Node.IN_TRANSIT),
    "InTransit_CustomsReleased": Maps(Node.IN_TRANSIT),
    "InTransit_CustomsRequiringInformation": exc(Reason.CUSTOMS_HOLD),
    "Expired_Other": SKIP,
    "AvailableForPickup_Other": Maps(Node.ARRIVED_STATION),
    "OutForDelivery_Other": Maps(Node.OUT_FOR_DELIVERY),
    "DeliveryFailure_Other": exc(Reason.FAILED_DELIVERY),
    "DeliveryFailure_NoBody": exc(Reason.FAILED_DELIVERY),
    "DeliveryFailure_Security": exc(Reason.CUSTOMS_HOLD),
    "DeliveryFailure_Rejected": exc(Reason.REFUSED),
    "DeliveryFailure_InvalidAddress": exc(Reason.BAD_ADDRESS),
    "Delivered_Other": Maps(Node.DELIVERED),
    "Exception_Other": exc(Reason.OTHER),
    "Exception_Returning": Maps(Node.RETURNED),
    "Exception_Returned": Maps(Node.RETURNED),
    "Exception_NoBody": exc(Reason.FAILED_DELIVERY),
    "Exception_Security": exc(Reason.CUSTOMS_HOLD),
    "Exception_Damage": exc(Reason.DAMAGED),
    "Exception_Rejected": exc(Reason.REFUSED),
    "Exception_Delayed": exc(Reason.OTHER),
    "Exception_Lost": exc(Reason.LOST),
    "Exception_Destroyed": exc(Reason.LOST),
    "Exception_Cancel": exc(Reason.OTHER),
}
STAGE: dict[str, Maps] = {
    "InfoReceived": Maps(Node.INFO_RECEIVED),
    "PickedUp": Maps(Node.PICKED_UP),
    "Departure": Maps(Node.DEPARTED_HUB),
    "Arrival": Maps(Node.ARRIVED_HUB),
    "AvailableForPickup": Maps(Node.ARRIVED_STATION),
    "OutForDelivery": Maps(Node.OUT_FOR_DELIVERY),
    "Delivered": Maps(Node.DELIVERED),
    "Returning": Maps(Node.RETURNED),
    "Returned": Maps(Node.RETURNED),
}


def classify(sub_status: str, stage: str, where: str) -> tuple[Maps, str]:
    if sub_status:
        if sub_status in SUB_STATUS:
            return SUB_STATUS[sub_status], sub_status
        main = sub_status.split("_", 1)[0]
        if main in MAIN_STATUS:
            return MAIN_STATUS[main], sub_status
        raise PayloadError(f"{where}.sub_status", f"'{sub_status}' is not a 17TRACK status we know")
    if stage in STAGE:
        return STAGE[stage], stage
    raise PayloadError(f"{where}.sub_status", "missing (and no stage we know)")


def parse(payload: object) -> list[Tracking]:
    body = obj(payload, "(payload)")
    if "event" in body:
        event = text(body, "event", "")
        if event not in ("TRACKING_UPDATED", "TRACKING_STOPPED"):
            raise PayloadError("event", f"'{event}' is not a 17TRACK tracking push")
        return [_tracking(obj(body.get("data"), "data"), "data")]
    if "data" in body:
        data = obj(body["data"], "data")
        items = arr(data.get("accepted"), "data.accepted")
        return [_tracking(obj(t, f"data.accepted[{i}]"), f"data.accepted[{i}]") for i, t in enumerate(items)]
    if "number" in body:
        return [_tracking(body, "")]
    raise PayloadError("event", "neither a 17TRACK push (event, data) nor a gettrackinfo response (data.accepted)")


def _tracking(data: Mapping[str, object], where: str) -> Tracking:
    prefix = f"{where}." if where else ""
    number = text(data, "number", where)
    carrier = text(data, "carrier", where, required=False)
    info = data.get("track_info")
    scans: list[Scan] = []
    skipped = 0
    if info is None:
        return Tracking(number, carrier, (), f"{prefix}number")
    tracking = obj(obj(info, f"{prefix}track_info").get("tracking") or {}, f"{prefix}track_info.tracking")
    for p, raw_provider in enumerate(arr(tracking.get("providers") or [], f"{prefix}track_info.tracking.providers")):
        pat = f"{prefix}track_info.tracking.providers[{p}]"
        provider = obj(raw_provider, pat)
        about = provider.get("provider")
        provider_country = text(about, "country", pat, required=False) if isinstance(about, Mapping) else ""
        for i, raw in enumerate(arr(provider.get("events") or [], f"{pat}.events")):
            at = f"{pat}.events[{i}]"
            event = obj(raw, at)
            mapped, code = classify(
                text(event, "sub_status", at, required=False), text(event, "stage", at, required=False), at
            )
            if mapped.node is None:
                skipped += 1
                continue
            address = event.get("address") if isinstance(event.get("address"), Mapping) else {}
            assert isinstance(address, Mapping)
            country = text(address, "country", at, required=False)
            when = _when(event, at, zone_of_country(country) or zone_of_country(provider_country) or UTC_ZONE)
            place = text(event, "location", at, required=False) or join(
                address.get("city"), address.get("state"), country
            )
            scans.append(
                make_scan(number, mapped, code, when, place, text(event, "description", at, required=False), at)
            )
    return Tracking(number, carrier, tuple(scans), f"{prefix}number", skipped)


def _when(event: Mapping[str, object], at: str, zone: ZoneInfo) -> datetime:
    if event.get("time_utc"):
        return instant(event["time_utc"], f"{at}.time_utc", UTC_ZONE)
    if event.get("time_iso"):
        return instant(event["time_iso"], f"{at}.time_iso", zone)
    raw = event.get("time_raw")
    if not isinstance(raw, Mapping) or not raw.get("date"):
        raise PayloadError(f"{at}.time_utc", "missing (and no time_iso or time_raw)")
    stamp = f"{raw['date']} {raw.get('time') or '00:00:00'}".strip()
    offset = str(raw.get("timezone") or "")
    return instant(stamp, f"{at}.time_raw", (zone_of_offset(offset) or zone) if offset else zone)
