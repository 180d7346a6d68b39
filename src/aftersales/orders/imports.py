"""What orders from shop platforms bring beyond the order itself: the refunds the shop gave on its
own platform, and the SKUs it sells that were never registered here."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Invalid, NotFound
from aftersales.orders import domain
from aftersales.orders.catalogue import _check_feeds_merchant, _merchant_or_409, ensure_category
from aftersales.orders.domain import OrderStatus
from aftersales.orders.models import Order, OrderRefund, Product, Sku
from aftersales.orders.recording import record_note, record_status
from aftersales.orders.repository import OrdersRepository
from aftersales.orders.schemas import OrderIn, OrderRefundIn, OrderSummary, UpsertResult
from aftersales.orders.views import summary_view
from aftersales.timeline.domain import Actor, actor_of

# Where an import files the SKUs it registers: policies by category do not apply until someone
# moves the product to its real category.
IMPORTED_CATEGORY = ("imported", "导入商品（未分类）", "Imported (uncategorised)")


def apply_refunds(order: Order, refunds: list[OrderRefundIn]) -> list[OrderRefund]:
    """Add the refunds the order does not have yet (by reference; a known one takes the amount
    sent, as a shop corrects it) and total them on the order. Refunds are never taken away: a
    revision that leaves one out still has it. Returns the refunds new to the order."""
    known = {r.reference: r for r in order.refunds}
    added: list[OrderRefund] = []
    for refund_in in refunds:
        refund = known.get(refund_in.reference)
        if refund is None:
            refund = OrderRefund(reference=refund_in.reference)
            order.refunds.append(refund)
            added.append(refund)
        refund.amount = refund_in.amount
        refund.currency = order.currency
        refund.refunded_at = refund_in.refunded_at
        refund.reason = refund_in.reason[:400]
        refund.lines = [{"line_no": rl.line_no, "quantity": rl.quantity} for rl in refund_in.lines]
    order.refunded_total = sum((r.amount for r in order.refunds), Decimal(0))
    problem = domain.refunds_problem(order.refunded_total, order.payable_total)
    if problem:
        raise Invalid(f"Order '{order.number}': {problem}.")
    return added


def note_refunds(session: Session, order: Order, refunds: list[OrderRefund], actor: Actor) -> None:
    for refund in refunds:
        record_note(
            session,
            order.id,
            "order.refund_recorded",
            actor,
            f"{refund.amount} {refund.currency} refunded by the shop ({refund.reference})"
            + (f": {refund.reason}" if refund.reason else ""),
            occurred_at=refund.refunded_at,
            evidence={"reference": refund.reference, "amount": str(refund.amount)},
        )


def register_missing_skus(session: Session, merchant_id: int, data: OrderIn) -> None:
    """Register, under the imported category, the SKUs of the order this merchant has not
    registered: a shop platform's order names its items, and refusing it for that would leave
    the order out. Known SKUs are left as they are."""
    repo = OrdersRepository(session)
    known = repo.skus_by_code(merchant_id, [line.sku for line in data.lines])
    missing = [line for line in data.lines if line.sku not in known]
    if not missing:
        return
    category = ensure_category(session, *IMPORTED_CATEGORY)
    for line in missing:
        if line.sku in known:
            continue  # the same SKU on two lines
        name = (line.name or line.sku)[:200]
        product = repo.product_by_name(merchant_id, name)
        if product is None:
            product = Product(merchant_id=merchant_id, category_id=category.id, name=name, brand="", tags=[])
            repo.add(product)
            session.flush()
        sku = Sku(
            merchant_id=merchant_id,
            product_id=product.id,
            code=line.sku,
            spec="",
            price=line.unit_price,
            currency=data.currency,
            stock=0,
        )
        repo.add(sku)
        session.flush()
        known[line.sku] = sku


def summary_by_ref(session: Session, merchant_code: str, external_ref: str) -> OrderSummary | None:
    repo = OrdersRepository(session)
    merchant = repo.merchant_by_code(merchant_code)
    order = repo.order_by_external_ref(merchant.id, external_ref) if merchant else None
    return summary_view(order) if order else None


def attach_refunds_in(
    session: Session, merchant_code: str, external_ref: str, refunds: list[OrderRefundIn], by: Principal
) -> UpsertResult:
    repo = OrdersRepository(session)
    merchant = _merchant_or_409(repo, merchant_code)
    _check_feeds_merchant(by, merchant)
    order = repo.order_by_external_ref(merchant.id, external_ref)
    if order is None:
        raise NotFound(
            f"No order of merchant '{merchant_code}' is the shop's order '{external_ref}'; "
            "import the order before its refunds."
        )
    before = {(r.reference, r.amount) for r in order.refunds}
    added = apply_refunds(order, refunds)
    if before == {(r.reference, r.amount) for r in order.refunds}:
        return UpsertResult(
            number=order.number, result="unchanged", status=order.status, source_version=order.source_version
        )
    previous = OrderStatus(order.status)
    reported = domain.status_with_refunds(previous, order.refunded_total, order.payable_total)
    target = domain.resolve_reported_status(previous, reported) or previous
    order.status = target.value
    order.updated_at = clock.now()
    session.flush()
    actor = actor_of(by)
    note_refunds(session, order, added, actor)
    if target is not previous:
        when = max((r.refunded_at for r in order.refunds), default=clock.now())
        record_status(session, order, previous, actor, "refund reported by the shop", when)
    return UpsertResult(number=order.number, result="updated", status=order.status, source_version=order.source_version)
