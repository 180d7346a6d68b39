"""Use cases of the platform's own riders: today's deliveries, and marking a parcel picked up,
delivered or failed. A mark is a logistics event through the same path as a carrier's scan
(idempotent by event id), so the order's status, the customer's trail and the ETA follow."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from aftersales.db.uow import Database
from aftersales.kit import clock, photos
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Invalid, NotFound
from aftersales.kit.masking import mask_phone
from aftersales.orders import domain
from aftersales.orders.domain import DeliveryMark, FailureReason, ShipmentStatus
from aftersales.orders.models import Shipment
from aftersales.orders.repository import OrdersRepository
from aftersales.orders.schemas import DeliveryOut, LogisticsEventIn, LogisticsEventResult
from aftersales.orders.service import _apply_event
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of

MARK_TEXT = {
    DeliveryMark.PICKED_UP: "骑手已取件，正在派送",
    DeliveryMark.DELIVERED: "骑手送达，已签收",
}


def photo_folder(shipment_id: int) -> str:
    return f"shipment-{shipment_id}"


def photo_uri(shipment_id: int, name: str) -> str:
    return f"/deliveries/{shipment_id}/photos/{name}"


def photo_uris(upload_dir: str, shipment_id: int) -> list[str]:
    return [photo_uri(shipment_id, n) for n in photos.stored_names(upload_dir, photo_folder(shipment_id))]


def _start_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def todays_deliveries(db: Database, rider: Principal, zone: ZoneInfo, upload_dir: str) -> list[DeliveryOut]:
    """The rider's parcels still to deliver (soonest promise first), then those delivered today."""
    if rider.role is not Role.RIDER:
        return []
    now = clock.now()
    since = _start_of_day(now, zone)
    with db.read() as uow:
        rows = OrdersRepository(uow.session).rider_shipments(
            rider.user_id, sorted(s.value for s in domain.RIDER_OPEN), since
        )
        far = now + timedelta(days=3650)
        rows.sort(
            key=lambda s: (
                s.status == ShipmentStatus.DELIVERED.value,
                clock.ensure_utc(s.promised_at) if s.promised_at else far,
                s.id,
            )
        )
        return [_view(s, now, upload_dir) for s in rows]


def _view(shipment: Shipment, now: datetime, upload_dir: str) -> DeliveryOut:
    order = shipment.order
    latest = max(shipment.events, key=lambda e: (clock.ensure_utc(e.occurred_at), e.id), default=None)
    return DeliveryOut(
        shipment_id=shipment.id,
        order_number=order.number,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=shipment.status,
        recipient_name=order.recipient_name,
        recipient_phone_masked=mask_phone(order.recipient_phone),
        address=f"{order.address_region} {order.address_detail}".strip(),
        items="、".join(f"{line.product_name} × {line.quantity}" for line in order.lines),
        promised_at=shipment.promised_at,
        delivered_at=shipment.delivered_at,
        late=domain.lateness(shipment.promised_at, shipment.delivered_at, now).late,
        last_note=" ".join(filter(None, [latest.place, latest.description])) if latest else "",
        marks=[m.value for m in domain.marks_allowed(ShipmentStatus(shipment.status))],
        photos=photo_uris(upload_dir, shipment.id),
    )


def mark_delivery(
    db: Database,
    shipment_id: int,
    mark: DeliveryMark,
    by: Principal,
    *,
    event_id: str,
    upload_dir: str,
    reason: FailureReason | None = None,
    note: str = "",
    photo: photos.CheckedPhoto | None = None,
) -> LogisticsEventResult:
    """Record a rider's mark on one of their parcels. The same event id twice changes nothing; a
    parcel of another rider is not found; a failed attempt needs a reason and a photo."""
    if mark is DeliveryMark.FAILED:
        if reason is None:
            raise Invalid("Choose why the delivery failed.")
        if reason is FailureReason.OTHER and not note.strip():
            raise Invalid("Describe what happened when the reason is 'other'.")
        if photo is None:
            raise Invalid("Add a photo of the delivery attempt (the door, the parcel) to report a failed delivery.")
    stored: list[photos.StoredPhoto] = []
    try:
        with db.write() as uow:
            session = uow.session
            repo = OrdersRepository(session)
            shipment = repo.shipment_of_rider(shipment_id, by.user_id) if by.role is Role.RIDER else None
            if shipment is None:
                raise NotFound("No delivery of yours with this number.")
            if repo.logistics_event_exists(event_id):
                return _duplicate(repo, shipment, event_id)
            status = ShipmentStatus(shipment.status)
            if mark not in domain.marks_allowed(status):
                raise Conflict(_not_allowed(status, mark))
            failed = mark is DeliveryMark.FAILED
            place = domain.FAILURE_TEXT[reason] if failed and reason else MARK_TEXT[mark]
            data = LogisticsEventIn(
                event_id=event_id,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                node=domain.MARK_NODE[mark],
                occurred_at=clock.now(),
                place=place,
                description=note.strip()[:1000],
            )
            result = _apply_event(session, data, by)
            if photo is not None:
                stored = photos.store_photos(upload_dir, photo_folder(shipment.id), [photo])
                # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
                timeline.record(
                    session,
                    Entry(
                        subject_type=SubjectType.SHIPMENT,
                        subject_id=shipment.id,
                        action="shipment.delivery_photo",
                        actor=actor_of(by),
                        occurred_at=data.occurred_at,
                        reason=place,
                        evidence={"photo": photo_uri(shipment.id, stored[0].name), "event_id": event_id},
                        customer_visible=False,
                    ),
                )
            session.flush()
            uow.commit()
            return result
    except IntegrityError:
        # The same mark sent twice at once: the other request recorded it.
        photos.remove_photos(upload_dir, photo_folder(shipment_id), stored)
        with db.read() as uow:
            repo = OrdersRepository(uow.session)
            again = repo.shipment_of_rider(shipment_id, by.user_id)
            if again is None or not repo.logistics_event_exists(event_id):
                raise
            return _duplicate(repo, again, event_id)
    except Exception:
        photos.remove_photos(upload_dir, photo_folder(shipment_id), stored)
        raise


def _duplicate(repo: OrdersRepository, shipment: Shipment, event_id: str) -> LogisticsEventResult:
    order = repo.order(shipment.order_id)
    assert order is not None
    return LogisticsEventResult(
        event_id=event_id, result="duplicate", shipment_status=shipment.status, order_status=order.status
    )


def _not_allowed(status: ShipmentStatus, mark: DeliveryMark) -> str:
    if status is ShipmentStatus.DELIVERED:
        return "This parcel is already delivered."
    if mark is DeliveryMark.PICKED_UP:
        return "This parcel is already out for delivery; mark it delivered or failed."
    return "Mark the parcel picked up first, then delivered or failed."


def delivery_photo(db: Database, shipment_id: int, name: str, viewer: Principal, upload_dir: str) -> str | None:
    """The file of a delivery photo, for those who may see the shipment's order; None otherwise."""
    with db.read() as uow:
        if OrdersRepository(uow.session).shipment_for_viewer(shipment_id, viewer) is None:
            return None
    path = photos.photo_path(upload_dir, photo_folder(shipment_id), name)
    return str(path) if path else None
