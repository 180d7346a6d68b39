"""Carriers' trackings imported as a whole (a webhook body or a REST response, one or several
trackings): every tracking of one payload in one transaction, so a payload that cannot be applied
changes nothing. A scan already known by its identity adds nothing, so replays and overlapping
pushes are free; any arrival order gives one final state (orders.domain.shipment_state)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Invalid, NotFound
from aftersales.orders import domain
from aftersales.orders.domain import LogisticsNode, NodeEvent
from aftersales.orders.models import LogisticsEvent, Order, Shipment
from aftersales.orders.progress import refresh_shipment
from aftersales.orders.repository import OrdersRepository
from aftersales.orders.schemas import TrackingImported, TrackingIn
from aftersales.timeline.domain import actor_of


def import_trackings(
    db: Database, trackings: list[TrackingIn], by: Principal, *, clock_skew: timedelta = domain.DEFAULT_CLOCK_SKEW
) -> list[TrackingImported]:
    """Apply the trackings of one payload; all or nothing. NotFound names the tracking number's field
    when no shipment has it; Invalid names the scan whose time is impossible."""
    with db.write() as uow:
        results = [_apply(uow.session, tracking, by, clock_skew) for tracking in trackings]
        uow.session.flush()
        uow.commit()
    return results


def _shipment_for(repo: OrdersRepository, tracking: TrackingIn) -> Shipment:
    found = repo.shipments_by_tracking_number(tracking.tracking_number)
    if len(found) > 1:
        hint = tracking.carrier.casefold()
        found = [s for s in found if s.carrier.casefold() == hint] or found
    if not found:
        raise NotFound(
            f"{tracking.field}: no shipment has tracking number '{tracking.tracking_number}'; "
            "send the order with this shipment first"
        )
    if len(found) > 1:
        carriers = ", ".join(sorted(s.carrier for s in found))
        raise NotFound(
            f"{tracking.field}: tracking number '{tracking.tracking_number}' is on shipments of several carriers "
            f"({carriers}) and the payload's carrier '{tracking.carrier}' names none of them"
        )
    return found[0]


def _visible(by: Principal, order: Order) -> bool:
    """Platform staff (admin) import for everyone; an integration for its merchant, or for all when
    it is bound to none."""
    if by.role.value == "integration":
        return by.merchant_id in (None, order.merchant_id)
    return by.role.value == "admin"


def _apply(session: Session, tracking: TrackingIn, by: Principal, clock_skew: timedelta) -> TrackingImported:
    repo = OrdersRepository(session)
    shipment = _shipment_for(repo, tracking)
    order = repo.order(shipment.order_id)
    assert order is not None
    if not _visible(by, order):
        raise NotFound(f"{tracking.field}: no shipment with tracking number '{tracking.tracking_number}' for you.")
    known_ids = {e.event_id for e in shipment.events}
    fresh = {scan.event_id: scan for scan in tracking.scans if scan.event_id not in known_ids}
    # The same scan may already sit on another shipment with this number (another carrier's).
    for event_id in repo.existing_event_ids(list(fresh)):
        del fresh[event_id]
    ordered = sorted(fresh.values(), key=lambda s: (s.occurred_at, domain.NODE_RANK[s.node]))
    now = clock.now()
    actor = actor_of(by)
    known = [NodeEvent(LogisticsNode(e.node), e.occurred_at, e.place) for e in shipment.events]
    for position, scan in enumerate(ordered, start=1):
        event = NodeEvent(scan.node, scan.occurred_at, scan.place)
        problem = domain.event_time_problem(event, known, shipment.shipped_at, now, clock_skew)
        if problem:
            raise Invalid(f"{scan.field or tracking.field}: {problem}")
        known.append(event)
        shipment.events.append(
            LogisticsEvent(
                event_id=scan.event_id,
                node=scan.node.value,
                occurred_at=scan.occurred_at,
                place=scan.place,
                description=scan.description,
                carrier_code=scan.carrier_code,
                exception_reason=scan.exception_reason.value if scan.exception_reason else None,
                received_at=now,
            )
        )
        # Each change of status is refreshed (and so on the timeline) as it happens; scans that do
        # not change it are settled once, after the last.
        if domain.shipment_state(known)[0].value != shipment.status or position == len(ordered):
            session.flush()
            refresh_shipment(session, repo, order, shipment, actor)
    return TrackingImported(
        tracking_number=shipment.tracking_number,
        carrier=shipment.carrier,
        order_number=order.number,
        status=shipment.status,
        new_events=len(fresh),
    )
