"""Self-service order actions (自助服务): each is decided by rule and executed at once when allowed,
or refused with a sentence the customer can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aftersales.cases import domain
from aftersales.cases import service as cases
from aftersales.cases.domain import CaseKind, CaseReason
from aftersales.cases.eligibility import order_line
from aftersales.cases.events import SelfServiceDone
from aftersales.cases.models import MerchantTask, OrderAction
from aftersales.cases.repository import CasesRepository
from aftersales.cases.schemas import CaseDraft, CaseLineIn, MerchantTaskOut
from aftersales.cases.settings import case_settings
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, NotFound
from aftersales.kit.money import allocate, share_of_units
from aftersales.messaging.outbox import publish_event
from aftersales.orders import service as orders
from aftersales.orders.domain import OrderStatus
from aftersales.orders.schemas import AddressIn, OrderFacts
from aftersales.refunds import service as refunds
from aftersales.refunds.schemas import RefundOut
from aftersales.timeline.domain import actor_of

URGES_PER_ORDER_PER_DAY = 1
NOT_SHIPPED = frozenset({OrderStatus.CREATED, OrderStatus.PAID, OrderStatus.FULFILLING})


@dataclass
class ActionResult:
    action: str
    done: bool
    message_en: str
    message_zh: str
    case_number: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _log(session: Session, order: OrderFacts, action: str, result: ActionResult, by: Principal) -> None:
    session.add(
        OrderAction(
            order_id=order.order_id,
            customer_id=order.customer_id,
            action=action,
            outcome="done" if result.done else "refused",
            detail=result.detail | {"message": result.message_en},
            by_user_id=by.user_id or None,
            at=clock.now(),
        )
    )
    if result.done and by.role is Role.CUSTOMER:
        now = clock.now()
        publish_event(
            session,
            SelfServiceDone(
                order_id=order.order_id,
                customer_id=order.customer_id,
                merchant_id=order.merchant_id,
                action=action,
                occurred_at=now.isoformat(),
            ),
            idempotency_key=f"self-service:{order.order_id}:{action}:{now.isoformat()}",
        )


def _customer_or_staff(by: Principal) -> None:
    if by.role not in (Role.CUSTOMER, Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(f"Your role '{by.role.value}' may not act on a customer's order.")


def cancel_order(db: Database, number: str, by: Principal) -> ActionResult:
    """Before shipment: cancel, and refund what was paid at once. Shipped but not delivered: the
    carrier is asked to bring the parcel back (an intercept, handled as a return). Delivered:
    refused, with the way to a return."""
    _customer_or_staff(by)
    with db.write() as uow:
        session = uow.session
        order = orders.order_facts(session, number, by)
        if order.status in NOT_SHIPPED and not order.shipped:
            orders.cancel_in(
                session,
                order.order_id,
                by,
                "cancelled by the customer" if by.role is Role.CUSTOMER else "cancelled by service",
            )
            detail: dict[str, Any] = {}
            # What is still refundable, line by line: a line refunded as out of stock is not paid back twice.
            refund = _refund_the_rest(session, order) if order.paid_at is not None else None
            if refund is not None:
                detail = {"refund_amount": str(refund.amount)}
            result = ActionResult(
                "cancel",
                True,
                "The order is cancelled; what you paid is on its way back.",
                "订单已取消，款项将原路退回。",
                detail=detail,
            )
        elif order.status is OrderStatus.SHIPPED:
            uow.session.flush()
            result = _intercept(session, order, by)
        else:
            result = ActionResult(
                "cancel",
                False,
                f"The order is {order.status.value}; it can no longer be cancelled. "
                "Start a return from the order page instead.",
                "订单已签收或已关闭，无法取消；如需退货请在订单页申请售后。",
            )
        _log(session, order, "cancel", result, by)
        uow.commit()
        return result


def quote_cancel(db: Database, number: str, by: Principal) -> tuple[Decimal, str] | None:
    """What cancelling now would pay back at once (amount, currency), shown before the person confirms: None when
    nothing is refunded at once (not paid; shipped, so the carrier brings it back first)."""
    _customer_or_staff(by)
    with db.read() as uow:
        order = orders.order_facts(uow.session, number, by)
        if order.status not in NOT_SHIPPED or order.shipped or order.paid_at is None:
            return None
        total = _the_rest(uow.session, order)[0]
        return (total, order.currency) if total > 0 else None


def _the_rest(session: Session, order: OrderFacts) -> tuple[Decimal, list[Any]]:
    left = [x for x in refunds.refundable_by_line(session, order.order_id) if x.left > 0]
    on_order = refunds.refundable_amount(session, order.order_id)
    return min(on_order, sum((x.left for x in left), Decimal(0))), left


def _refund_the_rest(session: Session, order: OrderFacts) -> RefundOut | None:
    """Cancelling pays back what each line can still refund, never more than the order as a whole
    can (a goodwill refund without lines counts against the order)."""
    total, left = _the_rest(session, order)
    if total <= 0:
        return None
    parts = allocate(total, [x.left for x in left], order.currency)
    return refunds.request_refund(
        session,
        order_id=order.order_id,
        order_number=order.number,
        case_id=None,
        amount=total,
        currency=order.currency,
        reason="note.refund_order_cancelled",
        business_key=f"order:{order.order_id}:cancel",
        lines={x.line_id: part for x, part in zip(left, parts, strict=True)},
    )


def _intercept(session: Session, order: OrderFacts, by: Principal) -> ActionResult:
    """The carrier brings the parcel back: a return awaiting its goods, refunded once the
    warehouse has them again (receipt and inspection, as any return)."""
    draft = CaseDraft(
        order_number=order.number,
        kind=CaseKind.RETURN_REFUND,
        reason=CaseReason.NOT_RECEIVED,
        lines=[CaseLineIn(line_no=line.line_no, quantity=line.quantity) for line in order.lines],
        description="intercept requested: the customer cancelled after shipment",
        return_method="intercept",
    )
    case = cases.create_without_policy(session, order, draft, by, via="self_service", note="note.intercept")
    return ActionResult(
        "cancel",
        True,
        "The parcel has shipped; we asked the carrier to bring it back and will refund once it is back.",
        "包裹已发出，已为您申请拦截退回，退回后将原路退款。",
        case_number=case.number,
    )


def change_address(db: Database, number: str, address: AddressIn, by: Principal) -> ActionResult:
    _customer_or_staff(by)
    with db.write() as uow:
        order = orders.order_facts(uow.session, number, by)
        if order.status in NOT_SHIPPED and not order.shipped:
            orders.change_address_in(uow.session, order.order_id, address, by)
            result = ActionResult(
                "change_address",
                True,
                "The delivery address is changed.",
                "收货地址已修改。",
                detail={"region": address.region, "detail": address.detail},
            )
        else:
            result = ActionResult(
                "change_address",
                False,
                "The parcel has left the warehouse, so the address can no longer change here. "
                "Contact the carrier or our service.",
                "包裹已出库，无法在此修改地址，请联系快递或客服。",
            )
        _log(uow.session, order, "change_address", result, by)
        uow.commit()
        return result


def urge_delivery(db: Database, number: str, by: Principal) -> ActionResult:
    """催单: the merchant gets a task with a deadline on its list (and the order's timeline says
    so); once per order per day."""
    _customer_or_staff(by)
    with db.write() as uow:
        order = orders.order_facts(uow.session, number, by)
        since = clock.now() - timedelta(days=1)
        if order.status not in (OrderStatus.PAID, OrderStatus.FULFILLING, OrderStatus.SHIPPED):
            result = ActionResult(
                "urge",
                False,
                f"The order is {order.status.value}; there is nothing to hurry.",
                "订单当前状态无需催单。",
            )
        elif CasesRepository(uow.session).actions_since(order.order_id, "urge", since) >= URGES_PER_ORDER_PER_DAY:
            result = ActionResult(
                "urge", False, "You already urged this order today; we are on it.", "今天已催过单，我们正在加急处理。"
            )
        else:
            task = _urge_task(uow.session, order, by)
            due = f"{task.due_at.astimezone(get_settings().zone):%Y-%m-%d %H:%M}"
            result = ActionResult(
                "urge",
                True,
                f"We told the merchant: your order is on their list, to be handled by {due}.",
                f"已通知商家：您的订单已进入商家的待办，需在 {due} 前处理。",
                detail={"task_id": task.id},
            )
        _log(uow.session, order, "urge", result, by)
        uow.commit()
        return result


@dataclass(frozen=True)
class OutOfStockQuote:
    """What reporting units of a line out of stock will do, shown before anything moves. `seen` is
    the line's claimed units when quoted: confirming the same quote twice refunds once."""

    order_number: str
    line_no: int
    product_name: str
    quantity: int
    unclaimed: int
    amount: Decimal
    currency: str
    seen: int


def _may_report_stock(by: Principal) -> None:
    if by.role not in (Role.MERCHANT, Role.WAREHOUSE, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("Only the merchant, the warehouse or a supervisor can report a line out of stock.")


def quote_out_of_stock(db: Database, number: str, line_no: int, quantity: int | None, by: Principal) -> OutOfStockQuote:
    """The refund a stock-out report would start, for the person to confirm; writes nothing."""
    _may_report_stock(by)
    with db.read() as uow:
        order = orders.order_facts(uow.session, number, by)
        if order.shipped or order.status not in NOT_SHIPPED:
            raise Conflict(f"Order {number} is {order.status.value}; only lines not yet shipped can be out of stock.")
        line = order_line(order, line_no)
        claimed = CasesRepository(uow.session).claimed_per_line(order.order_id).get(line.line_id, 0)
        units = domain.out_of_stock_units(quantity, line.quantity - claimed, line_no)
        return OutOfStockQuote(
            order_number=order.number,
            line_no=line.line_no,
            product_name=line.product_name,
            quantity=units,
            unclaimed=line.quantity - claimed,
            amount=share_of_units(line.paid, line.quantity, claimed, units, order.currency),
            currency=order.currency,
            seen=claimed,
        )


def report_out_of_stock(
    db: Database, number: str, line_no: int, by: Principal, quantity: int | None = None, seen: int | None = None
) -> ActionResult:
    """The warehouse cannot ship units of a line: the buyer is told and refunded for them at once.
    `quantity` defaults to every unit not yet claimed; `seen` comes from a confirmed quote."""
    _may_report_stock(by)
    with db.write() as uow:
        session = uow.session
        # Two reports at once meet on the order's row: the second waits, then sees the first one's case.
        order_id = orders.order_id_in(session, number)
        if order_id is not None:
            orders.money_facts_in(session, order_id, lock=True)
        order = orders.order_facts(session, number, by)
        if order.shipped or order.status not in NOT_SHIPPED:
            raise Conflict(f"Order {number} is {order.status.value}; only lines not yet shipped can be out of stock.")
        picked = order_line(order, line_no)
        repo = CasesRepository(session)
        reported = repo.open_case_for_line(picked.line_id, CaseReason.OUT_OF_STOCK.value)
        claimed = repo.claimed_per_line(order.order_id).get(picked.line_id, 0)
        # The same fact reported again (a double click, a retried feed, a quote confirmed twice): it is
        # refunded once. A confirmed quote that saw the earlier report is a report of further units.
        if reported is not None and (seen is None or seen != claimed):
            result = ActionResult(
                "out_of_stock",
                True,
                f"This line was already reported out of stock; the buyer is refunded in case {reported.number}.",
                f"该商品已报缺货，已在售后单 {reported.number} 中为买家退款。",
                case_number=reported.number,
            )
            _log(session, order, "out_of_stock", result, by)
            uow.commit()
            return result
        if seen is not None and seen != claimed:
            raise Conflict(f"Line {line_no} of order {number} changed since you checked it; check the refund again.")
        units = domain.out_of_stock_units(quantity, picked.quantity - claimed, line_no)
        line = picked
        if units == picked.quantity - claimed:  # the line says "out of stock" once no unit is left to ship
            line = orders.mark_out_of_stock_in(session, order.order_id, line_no, by)
        draft = CaseDraft(
            order_number=order.number,
            kind=CaseKind.REFUND_ONLY,
            reason=CaseReason.OUT_OF_STOCK,
            lines=[CaseLineIn(line_no=line.line_no, quantity=units)],
            description="",  # the case says "out of stock" in its reader's language, and its line the units
        )
        case = cases.create_without_policy(session, order, draft, SYSTEM, via="warehouse", note="note.out_of_stock")
        result = ActionResult(
            "out_of_stock",
            True,
            f"The buyer is told and refunded for {units} unit(s) of this line.",
            f"已通知买家，并为该商品的 {units} 件自动退款。",
            case_number=case.number,
            detail={"quantity": units},
        )
        _log(session, order, "out_of_stock", result, by)
        uow.commit()
        return result


# --- merchant tasks (an urged order) -------------------------------------------------------------
def _urge_task(session: Session, order: OrderFacts, by: Principal) -> MerchantTask:
    now = clock.now()
    # Field by field on purpose: MerchantTask's own fields; look-alikes elsewhere build others'.
    task = MerchantTask(
        kind=domain.URGE_TASK,
        order_id=order.order_id,
        order_number=order.number,
        merchant_id=order.merchant_id,
        customer_id=order.customer_id,
        created_at=now,
        due_at=domain.task_due(now, case_settings().urge_answer_hours),
        handled_at=None,
        handled_by="",
        handled_note="",
    )
    session.add(task)
    session.flush()
    orders.record_note(session, order.order_id, "order.urged", actor_of(by), "note.urge_on_merchant_list")
    return task


def _task_out(task: MerchantTask) -> MerchantTaskOut:
    out = MerchantTaskOut.model_validate(task)
    out.overdue = domain.task_overdue(task.due_at, task.handled_at, clock.now())
    return out


def open_merchant_tasks(db: Database, viewer: Principal, limit: int = 50) -> list[MerchantTaskOut]:
    """The merchant's list of urged orders still to handle (platform staff see every merchant's)."""
    with db.read() as uow:
        return [_task_out(t) for t in CasesRepository(uow.session).open_merchant_tasks(viewer, limit)]


def merchant_tasks_of_order(db: Database, number: str, viewer: Principal) -> list[MerchantTaskOut]:
    """The urges of an order the viewer can see, newest first: the customer sees that the merchant
    was told, by when, and when it was handled."""
    with db.read() as uow:
        order = orders.order_facts(uow.session, number, viewer)
        return [_task_out(t) for t in CasesRepository(uow.session).merchant_tasks_of_order(order.order_id)]


def handle_merchant_task(db: Database, task_id: int, note: str, by: Principal) -> MerchantTaskOut:
    """The merchant says what it did about an urge; the order's timeline shows it. Once."""
    if by.role not in domain.TASK_HANDLERS:
        raise Forbidden(f"Your role '{by.role.value}' may not handle a merchant's task.")
    with db.write() as uow:
        task = CasesRepository(uow.session).merchant_task(task_id, by)
        if task is None:
            raise NotFound(f"No task {task_id} on your list.")
        if task.handled_at is not None:
            raise Conflict(f"The urge on order {task.order_number} was already handled by {task.handled_by}.")
        task.handled_at = clock.now()
        task.handled_by = (by.display_name or by.username)[:120]
        task.handled_note = note.strip()[:1000]
        orders.record_note(
            uow.session, task.order_id, "order.urge_handled", actor_of(by), task.handled_note or "note.urge_handled"
        )
        out = _task_out(task)
        uow.commit()
        return out
