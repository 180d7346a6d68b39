"""Shippo: the Track object (GET /tracks/{carrier}/{number}) and the `track_updated` webhook (the
Track in `data`).

Each entry of `tracking_history` (and the current `tracking_status`) maps by its `substatus.code`
when it says more than the status, else by its `status`; a DELIVERED or RETURNED status wins.
Kept code: "STATUS:substatus".
Time: `status_date` with its offset; Shippo documents UTC, so one without an offset is UTC."""

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

FORMAT = "shippo"
UTC_ZONE = ZoneInfo("UTC")

STATUS: dict[str, Maps] = {
    "PRE_TRANSIT": Maps(Node.INFO_RECEIVED),
    "TRANSIT": Maps(Node.IN_TRANSIT),
    "DELIVERED": Maps(Node.DELIVERED),
    "RETURNED": Maps(Node.RETURNED),
    "FAILURE": exc(Reason.OTHER),
    "UNKNOWN": SKIP,
}
# None: no more than the status says.
SUBSTATUS: dict[str, Maps | None] = {
    "information_received": Maps(Node.INFO_RECEIVED),
    "address_issue": exc(Reason.BAD_ADDRESS),
    "contact_carrier": exc(Reason.OTHER),
    "delayed": exc(Reason.OTHER),
    "delivery_attempted": exc(Reason.FAILED_DELIVERY),
    "delivery_rescheduled": Maps(Node.IN_TRANSIT),
    "delivery_scheduled": Maps(Node.IN_TRANSIT),
    "location_inaccessible": exc(Reason.FAILED_DELIVERY),
    "notice_left": exc(Reason.FAILED_DELIVERY),
    "out_for_delivery": Maps(Node.OUT_FOR_DELIVERY),
    "package_accepted": Maps(Node.PICKED_UP),
    "package_arrived": Maps(Node.ARRIVED_HUB),
    "package_damaged": exc(Reason.DAMAGED),
    "package_departed": Maps(Node.DEPARTED_HUB),
    "package_disposed": exc(Reason.LOST),
    "package_forwarded": Maps(Node.IN_TRANSIT),
    "package_held": exc(Reason.OTHER),
    "package_lost": exc(Reason.LOST),
    "package_processed": Maps(Node.IN_TRANSIT),
    "package_processing": Maps(Node.IN_TRANSIT),
    "package_undeliverable": exc(Reason.FAILED_DELIVERY),
    "pickup_available": Maps(Node.ARRIVED_STATION),
    "reschedule_delivery": exc(Reason.FAILED_DELIVERY),
    "return_to_sender": Maps(Node.RETURNED),
    "delivered": Maps(Node.DELIVERED),
    "other": None,
}
_TERMINAL = {"DELIVERED", "RETURNED"}


def classify(status: str, substatus: str, where: str) -> Maps:
    by_status = lookup(STATUS, status, f"{where}.status", "Shippo status")
    if not substatus or status in _TERMINAL:
        return by_status
    if substatus not in SUBSTATUS:
        raise PayloadError(f"{where}.substatus.code", f"'{substatus}' is not a Shippo substatus we know")
    return SUBSTATUS[substatus] or by_status


def parse(payload: object) -> list[Tracking]:
    body = obj(payload, "(payload)")
    if "event" in body:
        event = text(body, "event", "")
        if event != "track_updated":
            raise PayloadError("event", f"'{event}' is a Shippo webhook about something else than tracking")
        return [_track(obj(body.get("data"), "data"), "data")]
    if "tracking_number" in body:
        return [_track(body, "")]
    raise PayloadError("event", "neither a Shippo track_updated webhook nor a Track object")


def _track(track: Mapping[str, object], where: str) -> Tracking:
    prefix = f"{where}." if where else ""
    number = text(track, "tracking_number", where)
    carrier = text(track, "carrier", where, required=False)
    entries: list[tuple[str, object]] = [
        (f"{prefix}tracking_history[{i}]", e)
        for i, e in enumerate(arr(track.get("tracking_history") or [], f"{prefix}tracking_history"))
    ]
    if track.get("tracking_status") is not None:
        entries.append((f"{prefix}tracking_status", track["tracking_status"]))
    scans: list[Scan] = []
    skipped = 0
    for at, raw in entries:
        entry = obj(raw, at)
        status = text(entry, "status", at)
        sub = entry.get("substatus")
        code_sub = text(sub, "code", f"{at}.substatus", required=False) if isinstance(sub, Mapping) else ""
        mapped = classify(status, code_sub, at)
        if mapped.node is None:
            skipped += 1
            continue
        location = entry.get("location")
        place = (
            join(location.get("city"), location.get("state"), location.get("country"))
            if isinstance(location, Mapping)
            else ""
        )
        when = instant(entry.get("status_date"), f"{at}.status_date", UTC_ZONE)
        code = f"{status}:{code_sub}" if code_sub else status
        scans.append(
            make_scan(number, mapped, code, when, place, text(entry, "status_details", at, required=False), at)
        )
    return Tracking(number, carrier, tuple(scans), f"{prefix}tracking_number", skipped)
