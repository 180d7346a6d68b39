"""The order as other contexts need it, read inside their unit of work."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import NotFound
from aftersales.orders import domain
from aftersales.orders.delivery_promise import promised_delivery
from aftersales.orders.domain import NOT_YET_MOVING, MerchantKind, OrderStatus, ShipmentStatus
from aftersales.orders.models import Order
from aftersales.orders.repository import OrdersRepository
from aftersales.orders.schemas import (
    CustomerContact,
    DeliveryRecord,
    LineFacts,
    LineMoney,
    OrderClosure,
    OrderDims,
    OrderFacts,
    OrderMoney,
)


def order_facts(session: Session, number: str, viewer: Principal) -> OrderFacts:
    """The order as after-sales needs it; NotFound unless the viewer may see it."""
    repo = OrdersRepository(session)
    order = repo.order_for_viewer(number, viewer)
    if order is None:
        raise NotFound(f"No order '{number}' that you can see.", key="error.order_not_visible", ref=number)
    return _facts(repo, order)


def order_facts_by_id(session: Session, order_id: int) -> OrderFacts:
    repo = OrdersRepository(session)
    order = repo.order_with_lines(order_id)
    if order is None:
        raise NotFound(f"No order #{order_id}.")
    return _facts(repo, order)


def _facts(repo: OrdersRepository, order: Order) -> OrderFacts:
    skus = repo.skus_by_id([line.sku_id for line in order.lines])
    shares = domain.paid_shares(
        [line.unit_price * line.quantity for line in order.lines],
        order.shipping_fee,
        order.discount_total,
        order.currency,
        tax_added=Decimal(0) if order.taxes_included else order.tax_total,
    )
    # Field by field on purpose: OrderFacts's own fields; look-alikes elsewhere build others'.
    return OrderFacts(
        order_id=order.id,
        number=order.number,
        status=OrderStatus(order.status),
        currency=order.currency,
        payable_total=order.payable_total,
        placed_at=order.placed_at,
        paid_at=order.paid_at,
        delivered_at=order.delivered_at,
        shipped=any(ShipmentStatus(s.status) not in NOT_YET_MOVING for s in order.shipments),
        merchant_id=order.merchant_id,
        merchant_code=order.merchant.code,
        merchant_name=order.merchant.name,
        merchant_kind=MerchantKind(order.merchant.kind),
        merchant_tags=list(order.merchant.tags or []),
        customer_id=order.customer_id,
        customer_tier=order.customer.tier,
        customer_email=order.customer.email,
        customer_locale=order.customer.locale,
        tags=list(order.tags or []),
        hours_late=_hours_late(order),
        # Field by field on purpose: LineFacts's own fields; look-alikes elsewhere build others'.
        lines=[
            LineFacts(
                line_id=line.id,
                line_no=line.line_no,
                sku_code=line.sku_code,
                product_name=line.product_name,
                category_code=line.category_code,
                product_tags=list(skus[line.sku_id].product.tags or []) if line.sku_id in skus else [],
                quantity=line.quantity,
                unit_price=line.unit_price,
                current_price=skus[line.sku_id].price if line.sku_id in skus else line.unit_price,
                stock_status=line.stock_status,
                paid=share.paid,
            )
            for line, share in zip(order.lines, shares, strict=True)
        ],
    )


def _hours_late(order: Order) -> int:
    now = clock.now()
    worst = max(
        (domain.lateness(s.promised_at, s.delivered_at, now).overdue for s in order.shipments),
        default=timedelta(0),
    )
    return int(worst.total_seconds() // 3600)


def customer_contact(db: Database, customer_id: int) -> CustomerContact | None:
    """Name, email and language of a customer, for notifications."""
    with db.read() as uow:
        return customer_contact_in(uow.session, customer_id)


def customer_contact_in(session: Session, customer_id: int) -> CustomerContact | None:
    customer = OrdersRepository(session).customer(customer_id)
    if customer is None:
        return None
    return CustomerContact(
        customer_id=customer.id,
        name=customer.name,
        email=customer.email,
        locale=customer.locale,
        phone=customer.phone,
        tier=customer.tier,
        email_notices=customer.email_notices,
    )


def set_contact_preferences(db: Database, customer_id: int, *, locale: str, email_notices: bool) -> None:
    """The customer's own choices: the language of their notices and whether they also go by email.
    The shop's order feed never overwrites them."""
    with db.write() as uow:
        customer = OrdersRepository(uow.session).customer(customer_id)
        if customer is None:
            return
        customer.locale = locale
        customer.email_notices = email_notices
        uow.commit()


def customer_id_by_email_in(session: Session, email: str) -> int | None:
    """The customer an email comes from (mail gateway); None for a stranger."""
    customer = OrdersRepository(session).customer_by_email(email)
    return customer.id if customer else None


def money_facts_in(session: Session, order_id: int, *, lock: bool) -> OrderMoney | None:
    """Number, currency, payable total, what the payments captured on each line, and the payment to
    refund to. With `lock` the order row
    stays locked until the caller's transaction ends (PostgreSQL), so two refunds of one order
    are checked against what is refundable one after the other."""
    repo = OrdersRepository(session)
    row = repo.money_row(order_id, lock=lock)
    if row is None:
        return None
    shipping_fee, discount_total, lines, payments, tax_added = repo.money_parts(order_id)
    paid = [
        share.paid
        for share in domain.paid_shares(
            [p * q for _, _, p, q in lines], shipping_fee, discount_total, row[2], tax_added=tax_added
        )
    ]
    captured = min(sum(payments, Decimal(0)), row[3])
    return OrderMoney(
        order_id=row[0],
        number=row[1],
        currency=row[2],
        payable_total=row[3],
        customer_id=row[4],
        payment_reference=repo.first_payment_reference(order_id),
        captured=captured,
        lines=[
            LineMoney(line_id=line_id, line_no=line_no, captured=share)
            for (line_id, line_no, _, _), share in zip(
                lines, domain.captured_shares(paid, captured, row[2]), strict=True
            )
        ],
    )


def order_id_in(session: Session, number: str) -> int | None:
    return OrdersRepository(session).order_id_by_number(number)


# Order tags the shop's feed sets, read by lateness compensation.
ON_DEMAND_TAG = "on_demand"
PREORDER_TAGS = frozenset({"preorder", "pre_order"})
BUYER_DELAY_TAG = "buyer_delay"


def delivery_record_in(session: Session, order_id: int, zone: ZoneInfo) -> DeliveryRecord | None:
    """The order's delivery against its frozen promise. A parcel's promise is the platform's
    (delivery_promise) at the moment of payment, so a later revision of the shipment's stamped time
    cannot move it; an on-demand order's is the earliest time stamped on its shipments."""
    order = OrdersRepository(session).order_with_lines(order_id)
    if order is None:
        return None
    tags = set(order.tags or [])
    on_demand = ON_DEMAND_TAG in tags
    promised = None
    if on_demand:
        stamped = [clock.ensure_utc(s.promised_at) for s in order.shipments if s.promised_at is not None]
        promised = min(stamped, default=None)
    elif order.paid_at is not None:
        self_operated = order.merchant.kind == MerchantKind.SELF_OPERATED.value
        promised = promised_delivery(self_operated, order.address_region, clock.ensure_utc(order.paid_at), zone)
    captured = sum((p.amount for p in order.payments), Decimal(0))
    paid = min(captured, order.payable_total) if order.payments else order.payable_total
    return DeliveryRecord(
        order_id=order.id,
        number=order.number,
        status=OrderStatus(order.status),
        merchant_id=order.merchant_id,
        customer_id=order.customer_id,
        customer_tier=order.customer.tier,
        currency=order.currency,
        paid=paid,
        paid_at=order.paid_at,
        promised_at=promised,
        delivered_at=order.delivered_at,
        region=order.address_region,
        on_demand=on_demand,
        preorder=bool(tags & PREORDER_TAGS),
        buyer_fault=BUYER_DELAY_TAG in tags,
    )


def order_closure_in(session: Session, number: str) -> OrderClosure | None:
    """Whose order it is, its status and when it closed (completed or cancelled), for the outreach
    governor's window; None for an unknown number."""
    row = OrdersRepository(session).closure_row(number)
    if row is None:
        return None
    customer_id, status, completed_at, cancelled_at = row
    closed = completed_at or cancelled_at
    return OrderClosure(customer_id=customer_id, status=status, closed_at=clock.ensure_utc(closed) if closed else None)


def customer_ids_by_phone(db: Database, phone: str) -> list[int]:
    """The customers with this phone number (an SMS reply names only the number): as written,
    and for a +86 number also without the country code, the way order feeds store it."""
    number = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if not number.strip("+"):
        return []
    candidates = {number, number.lstrip("+")}
    if number.startswith("+86"):
        candidates.add(number[3:])
    with db.read() as uow:
        return OrdersRepository(uow.session).customer_ids_by_phone(sorted(candidates))


def order_dims_in(session: Session, order_id: int | None = None, number: str = "") -> OrderDims | None:
    """What reports file an order's events under: merchant, carrier, shipping region, category."""
    repo = OrdersRepository(session)
    if order_id is None:
        order_id = repo.order_id_by_number(number) if number else None
    order = repo.order_with_lines(order_id) if order_id is not None else None
    if order is None:
        return None
    skus = repo.skus_by_id([line.sku_id for line in order.lines])
    categories = [skus[line.sku_id].product.category.code for line in order.lines if line.sku_id in skus]
    carriers = sorted({s.carrier for s in order.shipments})
    return OrderDims(
        order_id=order.id,
        number=order.number,
        merchant_id=order.merchant_id,
        customer_id=order.customer_id,
        carrier=carriers[0] if carriers else "",
        region=order.address_region,
        category=categories[0] if categories else "",
        delivered_at=order.delivered_at,
        paid_at=order.paid_at,
    )
