"""Importing one tracking payload (a carrier's or tracking platform's webhook body or REST response)
as it was sent: read, mapped by its format's module in carriers/, recorded through the orders
context in one transaction. Whatever cannot be read or applied raises ImportRefused naming the
field, and nothing is changed for that payload."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from aftersales.db.uow import Database
from aftersales.integrations.carriers import FORMATS, PayloadError, Tracking
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.orders import service as orders
from aftersales.orders.schemas import TrackingImported, TrackingIn, TrackingScanIn

# Who the command line acts as: a platform-wide integration, named on the timeline.
CLI_IMPORTER = Principal(user_id=0, username="tracking-import", role=Role.INTEGRATION, display_name="tracking import")


class ImportRefused(Exception):
    """A payload that changed nothing, and the sentence that says why (with the field)."""


def read_payload(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"(file): cannot read it: {exc.strerror or exc}") from exc
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"(payload): not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ImportRefused(f"(payload): not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc


def to_orders(tracking: Tracking) -> TrackingIn:
    """Our words handed over by value (the carriers package keeps its own enums)."""
    try:
        return TrackingIn(
            tracking_number=tracking.tracking_number,
            carrier=tracking.carrier[:64],
            field=tracking.field,
            scans=[
                TrackingScanIn(
                    event_id=s.identity,
                    node=s.node.value,
                    occurred_at=s.occurred_at,
                    place=s.place,
                    description=s.description,
                    carrier_code=s.carrier_code,
                    exception_reason=s.reason.value if s.reason else None,
                    field=s.field,
                )
                for s in tracking.scans
            ],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = tracking.field if first["loc"] and first["loc"][0] == "tracking_number" else "(tracking)"
        raise ImportRefused(f"{where}: {first['msg']}") from exc


def import_payload(db: Database, fmt: str, payload: object, by: Principal = CLI_IMPORTER) -> list[TrackingImported]:
    parse = FORMATS.get(fmt)
    if parse is None:
        raise ImportRefused(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}")
    try:
        trackings = [to_orders(t) for t in parse(payload)]
    except PayloadError as exc:
        raise ImportRefused(str(exc)) from exc
    if not trackings:
        raise ImportRefused("(payload): no tracking in it")
    try:
        return orders.import_trackings(db, trackings, by)
    except AppError as exc:
        raise ImportRefused(exc.message) from exc
