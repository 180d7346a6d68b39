"""Use cases of the orders context, each inside one unit of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Conflict, Invalid, NotFound
from aftersales.kit.pagination import Page, PageRequest
from aftersales.orders import domain
from aftersales.orders.catalogue import (
    _check_feeds_merchant,
    _merchant_or_409,
    ensure_categories,
    ensure_category,
    list_merchants,
    return_address,
    upsert_category,
    upsert_merchant,
    upsert_product,
)
from aftersales.orders.delivery_promise import delivery_facts, promised_delivery
from aftersales.orders.domain import LogisticsNode, NodeEvent, OrderStatus, ShipmentStatus
from aftersales.orders.facts import (
    _facts,
    customer_contact,
    customer_contact_in,
    customer_id_by_email_in,
    customer_ids_by_phone,
    delivery_record_in,
    money_facts_in,
    order_closure_in,
    order_dims_in,
    order_facts,
    order_facts_by_id,
    order_id_in,
    set_contact_preferences,
)
from aftersales.orders.imports import (
    apply_refunds,
    attach_refunds_in,
    note_refunds,
    register_missing_skus,
    summary_by_ref,
)
from aftersales.orders.models import (
    Customer,
    LogisticsEvent,
    Order,
    OrderLine,
    Payment,
    Shipment,
    Sku,
)
from aftersales.orders.progress import refresh_shipment
from aftersales.orders.recording import record_note, record_status
from aftersales.orders.repository import OrdersRepository
from aftersales.orders.schemas import (
    AddressIn,
    LineFacts,
    LogisticsEventIn,
    LogisticsEventResult,
    OrderFacts,
    OrderIn,
    OrderOut,
    OrderRefundsIn,
    OrderSummary,
    UpsertResult,
)
from aftersales.orders.tracking import import_trackings
from aftersales.orders.views import as_seen_by, order_view, summary_view
from aftersales.orders.watching import OrderSeen, ParcelSeen, ScanSeen, orders_seen_in, scans_since_in
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SubjectType, actor_of
from aftersales.timeline.schemas import TimelineEntryOut

T = TypeVar("T")


# --- order upsert -----------------------------------------------------------------------------
def upsert_order(db: Database, data: OrderIn, by: Principal) -> UpsertResult:
    """Apply one revision from the shop's order system. Replays and older revisions change nothing."""
    return _retry_once_on_race(db, lambda session: _apply_order(session, data, by), f"Order '{data.number}'")


def import_orders(db: Database, steps: list[OrderIn | OrderRefundsIn], by: Principal) -> list[UpsertResult]:
    """Orders mapped from a shop platform's format, and refunds it reports on their own, all or
    none in one transaction. An order is an API revision that also registers unknown SKUs and
    attaches an existing customer without changing who they are; lone refunds go on the order the
    shop knows by its id (404 without one, "unchanged" when known: imports.attach_refunds_in)."""

    def apply(session: Session) -> list[UpsertResult]:
        results = []
        for step in steps:
            if isinstance(step, OrderIn):
                results.append(_apply_order(session, step, by, keep_customer=True, register_skus=True))
            else:
                results.append(attach_refunds_in(session, step.merchant_code, step.external_ref, step.refunds, by))
            session.flush()
        return results

    return _retry_once_on_race(db, apply, "The import")


def order_by_external_ref(db: Database, merchant_code: str, external_ref: str) -> OrderSummary | None:
    with db.read() as uow:
        return summary_by_ref(uow.session, merchant_code, external_ref)


def _retry_once_on_race(db: Database, apply: Callable[[Session], T], what: str) -> T:
    """Two deliveries of the same new record can race on its unique key; the loser retries once
    and then sees the winner's row, so a replay still answers as a replay."""
    for attempt in (1, 2):
        with db.write() as uow:
            try:
                result = apply(uow.session)
                uow.session.flush()
                uow.commit()
                return result
            except IntegrityError as exc:
                if attempt == 2:
                    raise Conflict(f"{what} was written concurrently; send it again.") from exc
    raise AssertionError("unreachable")


def _apply_order(
    session: Session, data: OrderIn, by: Principal, *, keep_customer: bool = False, register_skus: bool = False
) -> UpsertResult:
    repo = OrdersRepository(session)
    merchant = _merchant_or_409(repo, data.merchant_code)
    _check_feeds_merchant(by, merchant)
    order = repo.order_for_update(data.number)
    incoming = (data.version, data.updated_at)
    if order is not None:
        if order.merchant_id != merchant.id:
            raise Conflict(f"Order '{data.number}' belongs to another merchant; its merchant cannot change.")
        if not domain.version_is_newer(incoming, (order.source_version, order.source_updated_at)):
            return UpsertResult(
                number=order.number, result="unchanged", status=order.status, source_version=order.source_version
            )
    if data.external_ref:
        other = repo.order_by_external_ref(merchant.id, data.external_ref)
        if other is not None and other.number != data.number:
            raise Conflict(f"The shop's order '{data.external_ref}' is already order '{other.number}' here.")
    if register_skus:
        register_missing_skus(session, merchant.id, data)
    skus = repo.skus_by_code(merchant.id, [line.sku for line in data.lines])
    missing = sorted({line.sku for line in data.lines} - skus.keys())
    if missing:
        raise Conflict(
            f"Unknown SKU(s) for merchant '{merchant.code}': {', '.join(missing)}. "
            "Register the products first with POST /api/v1/products."
        )
    actor = actor_of(by)
    now = clock.now()
    customer, kept = _upsert_customer(repo, data, now, by, keep_existing=keep_customer)
    created = order is None
    if order is None:
        # Field by field on purpose: Order's own fields; look-alikes elsewhere build others'.
        order = Order(
            number=data.number,
            merchant_id=merchant.id,
            customer_id=customer.id,
            status=data.status.value,
            created_at=now,
            lines=[],
            payments=[],
            shipments=[],
            refunds=[],
        )
        repo.add(order)
        previous_status = None
    else:
        previous_status = OrderStatus(order.status)
    # Field by field on purpose, like the SKU's upsert in catalogue.py: the order's own columns.
    order.customer_id = customer.id
    order.currency = data.currency
    order.placed_at = data.placed_at
    order.paid_at = data.paid_at
    order.recipient_name = data.shipping_address.name
    order.recipient_phone = data.shipping_address.phone
    order.address_region = data.shipping_address.region
    order.address_detail = data.shipping_address.detail
    order.tags = list(data.tags)
    order.note = data.note
    order.external_ref = data.external_ref or order.external_ref
    order.source_version = data.version
    order.source_updated_at = data.updated_at
    order.updated_at = now
    _apply_lines(order, data, skus)
    new_refunds = apply_refunds(order, data.refunds)
    reported = domain.status_with_refunds(data.status, order.refunded_total, order.payable_total)
    status = reported if previous_status is None else domain.resolve_reported_status(previous_status, reported)
    if status is None:
        raise Conflict(f"Order '{data.number}' is {previous_status}; it cannot move to {reported.value}.")
    order.status = status.value
    if status is OrderStatus.CANCELLED and order.cancelled_at is None:
        order.cancelled_at = data.updated_at
    if status is OrderStatus.COMPLETED and order.completed_at is None:
        order.completed_at = data.updated_at
    _apply_payments(repo, order, data)
    session.flush()
    _apply_shipments(session, repo, order, data)
    session.flush()
    note_refunds(session, order, new_refunds, actor)
    if kept:
        record_note(
            session,
            order.id,
            "order.customer_details_differ",
            actor,
            f"the order system sent another {', '.join(kept)} for customer {customer.external_id}; "
            "kept the customer's own",
            occurred_at=data.updated_at,
            evidence={"fields": kept},
            customer_visible=False,
        )
    if previous_status is None or previous_status.value != order.status:
        record_status(session, order, previous_status, actor, f"order system revision {data.version}", data.updated_at)
    else:
        # Same status, other fields changed (address, lines, shipments): kept for the audit.
        record_note(
            session,
            order.id,
            "order.revised",
            actor,
            f"order system revision {data.version}",
            occurred_at=data.updated_at,
            customer_visible=False,
        )
    return UpsertResult(
        number=order.number,
        result="created" if created else "updated",
        status=order.status,
        source_version=order.source_version,
        customer_fields_kept=kept,
    )


def _upsert_customer(
    repo: OrdersRepository, data: OrderIn, now: datetime, by: Principal, *, keep_existing: bool = False
) -> tuple[Customer, list[str]]:
    """The order's customer, created or corrected; returns the identity fields that differ but
    were kept because this writer does not own the customer, or (keep_existing) exists already."""
    writer = by.merchant_id if by.role.value == "integration" else None
    customer = repo.customer_by_external_id(data.customer.external_id)
    existing = customer is not None
    if customer is None:
        customer = Customer(external_id=data.customer.external_id, owner_merchant_id=writer, created_at=now)
        repo.add(customer)
    sent = {
        "name": data.customer.name,
        "phone": data.customer.phone,
        "email": data.customer.email,
        "tier": data.customer.tier.value,
    }
    kept: list[str] = []
    if keep_existing and existing:
        for field in domain.CUSTOMER_IDENTITY_FIELDS:
            if not getattr(customer, field) and sent[field]:
                setattr(customer, field, sent[field])
        kept = [f for f in domain.CUSTOMER_IDENTITY_FIELDS if getattr(customer, f) != sent[f] and sent[f]]
    elif domain.may_rewrite_customer(customer.owner_merchant_id, writer):
        for field in domain.CUSTOMER_IDENTITY_FIELDS:
            setattr(customer, field, sent[field])
    else:
        kept = [f for f in domain.CUSTOMER_IDENTITY_FIELDS if getattr(customer, f) != sent[f]]
    repo.session.flush()
    return customer, kept


def _apply_lines(order: Order, data: OrderIn, skus: dict[str, Sku]) -> None:
    # Lines are matched by number; lines missing from a later revision are kept, because
    # after-sales cases may already point at them.
    by_no = {line.line_no: line for line in order.lines}
    for line_in in data.lines:
        sku = skus[line_in.sku]
        line = by_no.get(line_in.line_no)
        if line is None:
            line = OrderLine(line_no=line_in.line_no)
            order.lines.append(line)
        line.sku_id = sku.id
        line.sku_code = sku.code
        line.product_name = (sku.product.name + (f" {sku.spec}" if sku.spec else ""))[:200]
        line.category_code = sku.product.category.code
        line.quantity = line_in.quantity
        line.unit_price = line_in.unit_price
        line.currency = data.currency
        line.stock_status = "out_of_stock" if line_in.out_of_stock else "in_stock"
    goods = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
    order.goods_total = goods
    order.shipping_fee = data.shipping_fee
    order.discount_total = data.discount_total
    order.tax_total = data.tax_total
    order.taxes_included = data.taxes_included
    order.payable_total = domain.payable_total(
        goods, data.shipping_fee, data.discount_total, data.tax_total, data.taxes_included
    )


def _apply_payments(repo: OrdersRepository, order: Order, data: OrderIn) -> None:
    known = {p.reference: p for p in order.payments}
    for pay_in in data.payments:
        payment = known.get(pay_in.reference)
        if payment is None:
            other = repo.payment_by_reference(pay_in.reference)
            if other is not None:
                raise Conflict(f"Payment reference '{pay_in.reference}' is already used by another order.")
            payment = Payment(reference=pay_in.reference)
            order.payments.append(payment)
        payment.method = pay_in.method
        payment.amount = pay_in.amount
        payment.currency = data.currency
        payment.paid_at = pay_in.paid_at


def _apply_shipments(session: Session, repo: OrdersRepository, order: Order, data: OrderIn) -> None:
    known = {(s.carrier, s.tracking_number): s for s in order.shipments}
    for ship_in in data.shipments:
        key = (ship_in.carrier, ship_in.tracking_number)
        shipment = known.get(key)
        if shipment is None:
            other = repo.shipment_by_tracking(*key)
            if other is not None:
                raise Conflict(f"Tracking number {ship_in.carrier} {ship_in.tracking_number} belongs to another order.")
            shipment = Shipment(
                carrier=ship_in.carrier,
                tracking_number=ship_in.tracking_number,
                status=ShipmentStatus.PENDING.value,
                current_place="",
            )
            order.shipments.append(shipment)
        shipment.promised_at = ship_in.promised_at
        if ship_in.shipped_at is not None:
            # A revision without the time keeps what the scans told us.
            current = shipment.shipped_at
            shipment.shipped_at = min(ship_in.shipped_at, current) if current else ship_in.shipped_at
        if ship_in.rider:
            rider_id = identity.rider_user_id(session, ship_in.rider)
            if rider_id is None:
                raise Conflict(f"Rider '{ship_in.rider}' is not a user with the rider role.")
            shipment.rider_user_id = rider_id


# --- logistics --------------------------------------------------------------------------------
def record_logistics_event(
    db: Database, data: LogisticsEventIn, by: Principal, *, clock_skew: timedelta = domain.DEFAULT_CLOCK_SKEW
) -> LogisticsEventResult:
    """Record one carrier scan. The same event id twice changes nothing; any arrival order gives
    the same final state, because status is derived from all events by their own times. A scan
    whose time is impossible (domain.event_time_problem) is refused with 422."""
    return _retry_once_on_race(
        db, lambda session: _apply_event(session, data, by, clock_skew), f"Event '{data.event_id}'"
    )


def _apply_event(
    session: Session, data: LogisticsEventIn, by: Principal, clock_skew: timedelta = domain.DEFAULT_CLOCK_SKEW
) -> LogisticsEventResult:
    repo = OrdersRepository(session)
    shipment = repo.shipment_by_tracking(data.carrier, data.tracking_number)
    if shipment is None:
        raise NotFound(
            f"No shipment with carrier '{data.carrier}' and tracking number '{data.tracking_number}'. "
            "Send the order with this shipment first."
        )
    order = repo.order(shipment.order_id)
    assert order is not None
    if by.role.value == "integration" and by.merchant_id not in (None, order.merchant_id):
        raise NotFound(f"No shipment with tracking number '{data.tracking_number}' for this token.")
    if by.role.value == "rider" and shipment.rider_user_id != by.user_id:
        raise NotFound(f"Shipment '{data.tracking_number}' is not assigned to you.")
    if by.role.value in ("merchant", "warehouse") and by.merchant_id != order.merchant_id:
        raise NotFound(f"No shipment with tracking number '{data.tracking_number}' for your merchant.")
    if repo.logistics_event_exists(data.event_id):
        return LogisticsEventResult(
            event_id=data.event_id, result="duplicate", shipment_status=shipment.status, order_status=order.status
        )
    known = [NodeEvent(LogisticsNode(e.node), e.occurred_at, e.place) for e in shipment.events]
    problem = domain.event_time_problem(
        NodeEvent(data.node, data.occurred_at, data.place), known, shipment.shipped_at, clock.now(), clock_skew
    )
    if problem:
        raise Invalid(problem)
    shipment.events.append(
        LogisticsEvent(
            event_id=data.event_id,
            node=data.node.value,
            occurred_at=data.occurred_at,
            place=data.place,
            description=data.description,
            received_at=clock.now(),
        )
    )
    refresh_shipment(session, repo, order, shipment, actor_of(by))
    return LogisticsEventResult(
        event_id=data.event_id, result="recorded", shipment_status=shipment.status, order_status=order.status
    )


def import_batch(db: Database, steps: list[OrderIn | LogisticsEventIn], by: Principal) -> None:
    """Bulk path for seeding and for moving from another system: order revisions and carrier scans
    applied in the given order, with the same rules as the API, in one transaction."""
    with db.write() as uow:
        for step in steps:
            if isinstance(step, OrderIn):
                _apply_order(uow.session, step, by)
            else:
                _apply_event(uow.session, step, by)
            uow.session.flush()
        uow.commit()


# --- reads ------------------------------------------------------------------------------------
def get_order(db: Database, number: str, viewer: Principal) -> OrderOut:
    with db.read() as uow:
        order = OrdersRepository(uow.session).order_for_viewer(number, viewer)
        if order is None:
            raise NotFound(f"No order '{number}' that you can see.", key="error.order_not_visible", ref=number)
        subjects = [(SubjectType.ORDER.value, order.id)] + [(SubjectType.SHIPMENT.value, s.id) for s in order.shipments]
        entries = timeline.entries_for(uow.session, subjects, customer_view=viewer.role.value == "customer")
        return as_seen_by(order_view(order, entries, clock.now()), viewer)


def search_orders(
    db: Database, viewer: Principal, query: str, request: PageRequest, status: str | None = None
) -> Page[OrderSummary]:
    with db.read() as uow:
        page = OrdersRepository(uow.session).search(viewer, query, request, status)
        return Page(items=[summary_view(o) for o in page.items], total=page.total, request=request)


def recent_orders_of_customer(db: Database, customer_id: int, limit: int, viewer: Principal) -> list[OrderSummary]:
    """A customer's latest orders for the staff who serve them (the ticket sidebar), as far as
    the viewer may see them: a merchant sees only its own orders of that customer."""
    with db.read() as uow:
        rows = OrdersRepository(uow.session).recent_of_customer(customer_id, limit, viewer)
        return [summary_view(o) for o in rows]


def customer_id_for(db: Database, external_id: str) -> int | None:
    with db.read() as uow:
        customer = OrdersRepository(uow.session).customer_by_external_id(external_id)
        return customer.id if customer else None


def merchant_id_for(db: Database, code: str) -> int | None:
    with db.read() as uow:
        merchant = OrdersRepository(uow.session).merchant_by_code(code)
        return merchant.id if merchant else None


def merchant_ids_of_kind_in(session: Session, kind: str) -> list[int]:
    """Merchants of one kind (pop, self_operated): the disputes' merchant-silence rule is for POP."""
    return OrdersRepository(session).merchant_ids_of_kind(kind)


def audit_log(
    db: Database, subject_type: str | None = None, request: PageRequest | None = None
) -> Page[TimelineEntryOut]:
    """The audit log a page at a time, newest first."""
    with db.read() as uow:
        return timeline.audit_page(uow.session, request or PageRequest(1, 50), subject_type)


def count_orders(db: Database) -> int:
    with db.read() as uow:
        return OrdersRepository(uow.session).count_orders()


def placed_per_interval(db: Database, since: datetime, until: datetime, seconds: int) -> dict[datetime, int]:
    """Orders placed in [since, until), counted per interval of `seconds` (by the start of each)."""
    with db.read() as uow:
        counts = OrdersRepository(uow.session).placed_per_interval(since, until, seconds)
    return {since + timedelta(seconds=i * seconds): n for i, n in counts.items()}


# --- for other contexts, inside their unit of work ------------------------------------------------
def cancel_in(session: Session, order_id: int, by: Principal, reason: str) -> None:
    """Cancel an order that has not shipped (the caller has checked the rules)."""
    order = OrdersRepository(session).order(order_id)
    if order is None:
        raise NotFound(f"No order #{order_id}.")
    previous = OrderStatus(order.status)
    if not domain.can_move_order(previous, OrderStatus.CANCELLED) or previous is OrderStatus.CANCELLED:
        raise Conflict(f"Order '{order.number}' is {previous.value}; it can no longer be cancelled.")
    order.status = OrderStatus.CANCELLED.value
    order.cancelled_at = clock.now()
    order.updated_at = clock.now()
    session.flush()
    record_status(session, order, previous, actor_of(by), reason, clock.now())


def change_address_in(session: Session, order_id: int, address: AddressIn, by: Principal) -> None:
    order = OrdersRepository(session).order(order_id)
    if order is None:
        raise NotFound(f"No order #{order_id}.")
    before = f"{order.recipient_name} {order.recipient_phone} {order.address_region} {order.address_detail}"
    order.recipient_name = address.name
    # The order page shows a customer their phone masked (as /account does), so the form comes
    # without it: left empty, the phone stays as it was.
    order.recipient_phone = address.phone.strip() or order.recipient_phone
    order.address_region = address.region
    order.address_detail = address.detail
    order.updated_at = clock.now()
    record_note(
        session,
        order.id,
        "order.address_changed",
        actor_of(by),
        f"{address.region} {address.detail}",
        evidence={"before": before},
    )


def mark_out_of_stock_in(session: Session, order_id: int, line_no: int, by: Principal) -> LineFacts:
    order = OrdersRepository(session).order_with_lines(order_id)
    line = next((candidate for candidate in order.lines if candidate.line_no == line_no), None) if order else None
    if order is None or line is None:
        raise NotFound(f"No line {line_no} on order #{order_id}.")
    line.stock_status = "out_of_stock"
    record_note(session, order.id, "order.line_out_of_stock", actor_of(by), f"{line.product_name} × {line.quantity}")
    return _facts(OrdersRepository(session), order).lines[[x.line_no for x in order.lines].index(line_no)]


# Re-exported: other contexts reach the orders context through this module only.
__all__ = [
    "OrderFacts",
    "OrderSeen",
    "ParcelSeen",
    "ScanSeen",
    "cancel_in",
    "change_address_in",
    "customer_contact",
    "customer_contact_in",
    "customer_id_by_email_in",
    "customer_ids_by_phone",
    "delivery_facts",
    "delivery_record_in",
    "ensure_categories",
    "ensure_category",
    "import_trackings",
    "list_merchants",
    "mark_out_of_stock_in",
    "money_facts_in",
    "order_closure_in",
    "order_dims_in",
    "order_facts",
    "order_facts_by_id",
    "order_id_in",
    "orders_seen_in",
    "promised_delivery",
    "record_note",
    "return_address",
    "scans_since_in",
    "set_contact_preferences",
    "upsert_category",
    "upsert_merchant",
    "upsert_product",
]

# The audit log names orders and shipments by their numbers, never by row id.
timeline.name_subjects(SubjectType.ORDER, lambda session, ids: OrdersRepository(session).numbers_by_id(ids))
timeline.name_subjects(SubjectType.SHIPMENT, lambda session, ids: OrdersRepository(session).tracking_numbers_by_id(ids))
