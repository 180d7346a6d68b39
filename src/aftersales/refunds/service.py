"""Use cases of refunds. A refund is requested inside the caller's transaction (with its idempotency
key and its outbox message), executed by the worker from the outbox, and settled by the gateway's
confirmation. Every step is safe to run twice or after a crash at any line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import TypeVar

import structlog
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.errors import Conflict, Invalid, NotFound
from aftersales.messaging import scans
from aftersales.messaging.outbox import publish_event
from aftersales.orders import service as orders
from aftersales.refunds import domain
from aftersales.refunds.domain import FINAL, RefundStatus
from aftersales.refunds.events import RefundRequested, RefundSettled
from aftersales.refunds.gateway import (
    GatewayAck,
    GatewayRejected,
    GatewayStatus,
    GatewayUnavailable,
    PaymentGateway,
    default_gateway,
)
from aftersales.refunds.models import Refund, RefundLine
from aftersales.refunds.repository import RefundsRepository
from aftersales.refunds.schemas import RefundOut
from aftersales.refunds.settings import refund_settings
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Actor, ActorKind, Entry, SubjectType

log = structlog.get_logger(__name__)
RECONCILE_SCAN = "refund_reconcile"  # its failures in /metrics: aftersales_scan_item_failures_total{scan=…}
T = TypeVar("T")

REQUESTED_TOPIC = RefundRequested.topic
SETTLED_TOPIC = RefundSettled.topic
REFUNDS_ACTOR = Actor(ActorKind.SYSTEM, "refunds")
GATEWAY_ACTOR = Actor(ActorKind.INTEGRATION, "payment gateway")


# --- requesting -----------------------------------------------------------------------------------
# _request below takes the same arguments on purpose: this entry checks the keys, the retry path enters there.
def request_refund(
    session: Session,
    *,
    order_id: int,
    order_number: str,
    case_id: int | None,
    amount: Decimal,
    currency: str,
    reason: str,
    idempotency_key: str | None = None,
    business_key: str | None = None,
    lines: Mapping[int, Decimal] | None = None,
) -> RefundOut:
    """Write a refund request in the caller's transaction, with the outbox message that will execute
    it. `business_key` names what is paid for (a case's lines for its reason, an order's
    cancellation) and each business fact pays once: while a refund of it has not failed, asking
    again returns that refund; after one failed, the next attempt's idempotency key is derived from
    the failed one's. Given only an `idempotency_key`, that key is the fact; the same key again
    returns the first request unchanged. `lines` (order line id → amount) says what is paid back
    for which line. Refused (409) when the amount is not positive, exceeds what the order or a line
    can still refund (what was captured on it less refunds done or on their way), or the order has
    no payment."""
    if idempotency_key is None and business_key is None:
        raise Invalid("A refund needs a business key or an idempotency key.")
    fact = business_key or domain.base_key(idempotency_key or "")
    domain.check_key(fact)
    if idempotency_key is not None:
        domain.check_key(idempotency_key)
    return _request(session, order_id, order_number, case_id, amount, currency, reason, fact, idempotency_key, lines)


# The same arguments as request_refund, positional and with the checked key: the public entry checks
# the keys once, the retry path (which derives its key) enters here.
def _request(
    session: Session,
    order_id: int,
    order_number: str,
    case_id: int | None,
    amount: Decimal,
    currency: str,
    reason: str,
    fact: str,
    key: str | None,
    lines: Mapping[int, Decimal] | None = None,
) -> RefundOut:
    if len(reason) > domain.MAX_REASON_LENGTH:
        raise Invalid(f"A refund reason may have at most {domain.MAX_REASON_LENGTH} characters.")
    repo = RefundsRepository(session)
    # Locks the order row first: two refunds of one order are checked against the cap in turn, and
    # the second asking for the same business fact finds the first.
    order = orders.money_facts_in(session, order_id, lock=True)
    if order is None:
        raise NotFound(f"No order #{order_id} to refund.")
    if order.number != order_number:
        raise Conflict(f"Order #{order_id} is {order.number}, not {order_number}.")
    earlier = repo.for_order(order_id)
    attempts = [r for r in earlier if r.business_key == fact]
    live = next((r for r in attempts if r.status != RefundStatus.FAILED), None)
    if key is None:
        if live is not None:
            return RefundOut.model_validate(live)
        key = domain.retry_key(attempts[-1].idempotency_key) if attempts else fact
    existing = repo.by_key(key)
    if existing is not None:
        if (existing.order_id, existing.amount, existing.currency) != (order_id, amount, currency):
            raise Conflict(
                f"The idempotency key '{key}' already belongs to a refund of {existing.amount} {existing.currency} "
                f"on order {existing.order_number}; a different refund needs a new key."
            )
        return RefundOut.model_validate(existing)
    if live is not None:
        return RefundOut.model_validate(live)
    reference = order.payment_reference
    if reference is None:
        raise Conflict(f"Order {order.number} has no payment, so there is nothing to refund {amount} {currency} to.")
    taken = [domain.Taken(r.amount, r.status, {x.order_line_id: x.amount for x in r.lines}) for r in earlier]
    domain.check_request(
        amount=amount,
        currency=currency,
        order_number=order.number,
        order_currency=order.currency,
        paid_total=order.captured,
        still_refundable=domain.refundable(order.captured, [(t.amount, t.status) for t in taken]),
    )
    if lines:
        domain.check_lines(
            amount=amount,
            currency=currency,
            order_number=order.number,
            asked=lines,
            left=domain.refundable_lines([(x.line_id, x.line_no, x.captured) for x in order.lines], taken),
        )
    now = clock.now()
    refund = Refund(
        order_id=order_id,
        order_number=order.number,
        case_id=case_id,
        amount=amount,
        currency=currency,
        reason=reason,
        idempotency_key=key,
        business_key=fact,
        payment_reference=reference,
        status=RefundStatus.REQUESTED.value,
        gateway_ref="",
        attempts=0,
        last_error="",
        requested_at=now,
        next_attempt_at=now,
        lines=[RefundLine(order_line_id=line_id, amount=part) for line_id, part in (lines or {}).items() if part],
    )
    repo.add(refund)
    session.flush()
    publish_event(session, RefundRequested(refund.id), idempotency_key=f"refund-requested:{key}")
    _record(session, refund, None, REFUNDS_ACTOR, reason)
    log.info("refund.requested", refund_id=refund.id, order=order.number, amount=str(amount), key=key)
    return RefundOut.model_validate(refund)


def retry_refund(db: Database, refund_id: int) -> RefundOut:
    """A failed refund, requested again with a new key derived from its own ('K:retry1', ...), so
    retrying the same failed refund twice is still one retry. The cap still applies."""
    with db.write() as uow:
        old = RefundsRepository(uow.session).get(refund_id)
        if old is None:
            raise NotFound(f"No refund #{refund_id}.")
        if old.status != RefundStatus.FAILED:
            raise Conflict(f"Refund #{refund_id} is {old.status}; only a failed refund can be retried.")
        new = _request(
            uow.session,
            old.order_id,
            old.order_number,
            old.case_id,
            old.amount,
            old.currency,
            old.reason,
            old.business_key,
            domain.retry_key(old.idempotency_key),
            {x.order_line_id: x.amount for x in old.lines},
        )
        uow.commit()
        return new


# --- reading ----------------------------------------------------------------------------------------
def refundable_amount(session: Session, order_id: int) -> Decimal:
    """What the order can still refund: what its payments captured minus every refund that has not
    failed (done or on its way)."""
    order = orders.money_facts_in(session, order_id, lock=False)
    if order is None:
        raise NotFound(f"No order #{order_id}.")
    return domain.refundable(order.captured, RefundsRepository(session).amounts_on_order(order_id))


def refundable_by_line(session: Session, order_id: int) -> list[domain.LineLeft]:
    """Per order line, in line order: what its payments captured and what it can still refund."""
    order = orders.money_facts_in(session, order_id, lock=False)
    if order is None:
        raise NotFound(f"No order #{order_id}.")
    taken = [
        domain.Taken(r.amount, r.status, {x.order_line_id: x.amount for x in r.lines})
        for r in RefundsRepository(session).for_order(order_id)
    ]
    return domain.refundable_lines([(x.line_id, x.line_no, x.captured) for x in order.lines], taken)


def refunds_for_order(db: Database, order_id: int) -> list[RefundOut]:
    with db.read() as uow:
        return [RefundOut.model_validate(r) for r in RefundsRepository(uow.session).for_order(order_id)]


def refunds_for_order_number(db: Database, number: str) -> list[RefundOut]:
    """Callers check that the viewer may see the order first (orders.service.get_order)."""
    with db.read() as uow:
        order_id = orders.order_id_in(uow.session, number)
        if order_id is None:
            return []
        return [RefundOut.model_validate(r) for r in RefundsRepository(uow.session).for_order(order_id)]


def refunds_for_case(session: Session, case_id: int) -> list[RefundOut]:
    return [RefundOut.model_validate(r) for r in RefundsRepository(session).for_case(case_id)]


def get_refund(db: Database, refund_id: int) -> RefundOut:
    with db.read() as uow:
        refund = RefundsRepository(uow.session).get(refund_id)
        if refund is None:
            raise NotFound(f"No refund #{refund_id}.")
        return RefundOut.model_validate(refund)


def refund_by_gateway_ref(db: Database, gateway_ref: str) -> RefundOut:
    with db.read() as uow:
        refund = RefundsRepository(uow.session).by_gateway_ref(gateway_ref)
        if refund is None:
            raise NotFound(f"No refund with gateway reference '{gateway_ref}'.")
        return RefundOut.model_validate(refund)


# --- executing (the worker) ---------------------------------------------------------------------------
def process_refund(db: Database, refund_id: int, gateway: PaymentGateway | None = None) -> None:
    """Send one refund to the gateway. Safe to run twice, concurrently, or again after a crash at
    any line: the gateway refunds once per key, and each of our writes re-reads the row and only
    moves it forward. A transient gateway error is recorded and raised, so the outbox tries again."""
    gateway = gateway or default_gateway(db)
    with db.read() as uow:
        refund = RefundsRepository(uow.session).get(refund_id)
        if refund is None:
            log.warning("refund.unknown", refund_id=refund_id)
            return
        status = RefundStatus(refund.status)
        if status in FINAL or (status is RefundStatus.SUBMITTED and refund.gateway_ref):
            return
        key, reference, amount, currency = (
            refund.idempotency_key,
            refund.payment_reference,
            refund.amount,
            refund.currency,
        )
    try:
        ack = gateway.submit(key, reference, amount, currency)
    except GatewayUnavailable as exc:
        if _with_retries(db, partial(_note_unavailable, refund_id=refund_id, exc=exc)):
            raise
        return
    except GatewayRejected as exc:
        _with_retries(db, partial(_note_rejected, refund_id=refund_id, error=str(exc)))
        return
    _with_retries(db, partial(_note_ack, refund_id=refund_id, ack=ack))


def _note_unavailable(session: Session, refund_id: int, exc: Exception) -> bool:
    """Returns whether the refund still waits for the gateway (then the caller raises to retry)."""
    refund = _get(session, refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return False  # a confirmation overtook the lost answer: nothing left to do
    refund.attempts += 1
    refund.last_error = repr(exc)[:2000]
    refund.next_attempt_at = clock.now() + domain.backoff(refund.attempts)
    log.warning("refund.gateway_unavailable", refund_id=refund_id, attempts=refund.attempts, error=str(exc))
    return True


def _note_rejected(session: Session, refund_id: int, error: str) -> bool:
    log.warning("refund.rejected", refund_id=refund_id, error=error)
    return _settle_row(session, _get(session, refund_id), False, "", error)


def _note_ack(session: Session, refund_id: int, ack: GatewayAck) -> bool:
    refund = _get(session, refund_id)
    if RefundStatus(refund.status) in FINAL:
        return False
    if ack.final:
        return _settle_row(session, refund, ack.status == GatewayStatus.SUCCEEDED, ack.gateway_ref)
    if refund.status == RefundStatus.REQUESTED:
        refund.status = RefundStatus.SUBMITTED.value
        refund.gateway_ref = ack.gateway_ref
        refund.submitted_at = clock.now()
        refund.next_attempt_at = None
        _record(session, refund, RefundStatus.REQUESTED, REFUNDS_ACTOR, "")
        return True
    if not refund.gateway_ref:
        refund.gateway_ref = ack.gateway_ref
        return True
    return False


# --- settling (the gateway's confirmation) ---------------------------------------------------------------
def settle(db: Database, gateway_ref: str, succeeded: bool, *, idempotency_key: str | None = None) -> None:
    """The gateway confirmed (or declined) a refund. Idempotent: the same confirmation again changes
    nothing; a contradicting one is refused (409). `idempotency_key` finds a refund whose confirmation
    overtook the gateway's acknowledgement (we do not know its gateway reference yet)."""

    def apply(session: Session) -> bool:
        repo = RefundsRepository(session)
        refund = repo.by_gateway_ref(gateway_ref)
        if refund is None and idempotency_key:
            refund = repo.by_key(idempotency_key)
            if refund is not None and refund.gateway_ref not in ("", gateway_ref):
                raise Conflict(
                    f"Refund key '{idempotency_key}' belongs to gateway reference {refund.gateway_ref}, "
                    f"not {gateway_ref}."
                )
        if refund is None:
            raise NotFound(f"No refund with gateway reference '{gateway_ref}'.")
        return _settle_row(session, refund, succeeded, gateway_ref)

    _with_retries(db, apply)


def _settle_row(session: Session, refund: Refund, succeeded: bool, gateway_ref: str, error: str = "") -> bool:
    target = RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED
    current = RefundStatus(refund.status)
    if current in FINAL:
        if current is target:
            return False
        raise Conflict(f"Refund #{refund.id} is already {current}; the gateway now reports {target}.")
    if not domain.can_move(current, target):  # pragma: no cover - the table allows every open → final
        raise Conflict(f"Refund #{refund.id} cannot go from {current} to {target}.")
    now = clock.now()
    refund.status = target.value
    refund.gateway_ref = refund.gateway_ref or gateway_ref
    refund.submitted_at = refund.submitted_at or now
    refund.settled_at = now
    refund.next_attempt_at = None
    if error:
        refund.last_error = error[:2000]
    money = orders.money_facts_in(session, refund.order_id, lock=False)
    publish_event(
        session,
        RefundSettled(
            refund_id=refund.id,
            case_id=refund.case_id,
            customer_id=money.customer_id if money else None,
            order_number=refund.order_number,
            status=refund.status,
            amount=str(refund.amount),
            currency=refund.currency,
            occurred_at=now.isoformat(),
        ),
        idempotency_key=f"refund-settled:{refund.id}",
    )
    _record(session, refund, current, GATEWAY_ACTOR, error or "")
    log.info("refund.settled", refund_id=refund.id, status=refund.status, gateway_ref=refund.gateway_ref)
    return True


def reconcile(
    db: Database, gateway: PaymentGateway | None = None, *, older_than: timedelta | None = None, limit: int = 200
) -> int:
    """Confirmations get lost (a webhook never arrives, a worker dies while confirming): refunds
    acknowledged long ago are looked up at the gateway and settled from its answer. Returns how many.
    Each refund is looked at on its own: one the gateway cannot answer for, or whose answer we cannot
    use, is logged, counted and put back with a growing delay, and the others go on."""
    gateway = gateway or default_gateway(db)
    wait = older_than if older_than is not None else timedelta(seconds=refund_settings().refund_reconcile_after_seconds)
    now = clock.now()
    with db.read() as uow:
        waiting = [
            (r.id, r.idempotency_key) for r in RefundsRepository(uow.session).submitted_before(now - wait, limit, now)
        ]
    settled = 0
    for refund_id, key in waiting:
        try:
            ack = gateway.lookup(key)
            if ack is None:
                log.error("refund.unknown_at_gateway", refund_id=refund_id, key=key)
            elif ack.final:
                settle(db, ack.gateway_ref, ack.status == GatewayStatus.SUCCEEDED, idempotency_key=key)
                settled += 1
        except GatewayUnavailable as exc:  # the gateway is down: every refund waits for the next run
            log.warning("refund.reconcile_unavailable", refund_id=refund_id, error=str(exc))
        except Exception as exc:  # one odd refund must not hold back the others
            _reconcile_failed(db, refund_id, exc)
    return settled


def _reconcile_failed(db: Database, refund_id: int, error: Exception) -> None:
    with db.write() as uow:
        refund = RefundsRepository(uow.session).get(refund_id)
        if refund is None:
            return
        refund.reconcile_failures += 1
        refund.reconcile_after = clock.now() + scans.retry_delay(refund.reconcile_failures)
        failures = refund.reconcile_failures
        uow.commit()
    scans.item_failed(RECONCILE_SCAN, refund_id, error, failures)


# --- plumbing -------------------------------------------------------------------------------------------------
def _get(session: Session, refund_id: int) -> Refund:
    refund = RefundsRepository(session).get(refund_id)
    if refund is None:
        raise NotFound(f"No refund #{refund_id}.")
    return refund


def _with_retries(db: Database, apply: Callable[[Session], T], attempts: int = 3) -> T:
    """One short write; commit when `apply` reports a change. Two writers moving the same refund at
    once (a confirmation racing the acknowledgement) meet on its version: the loser re-reads."""
    for attempt in range(attempts):
        try:
            with db.write() as uow:
                result = apply(uow.session)
                if result:
                    uow.commit()
                return result
        except StaleDataError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _record(session: Session, refund: Refund, before: RefundStatus | None, actor: Actor, reason: str) -> None:
    """Each status change of a refund is a fact on its order's timeline (the customer's progress view
    shows requested and settled; submission is internal)."""
    # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.ORDER,
            subject_id=refund.order_id,
            action=f"refund.{refund.status}",
            actor=actor,
            occurred_at=clock.now(),
            from_state=before.value if before else None,
            to_state=refund.status,
            reason=reason[:400],
            evidence={
                "refund_id": refund.id,
                "amount": str(refund.amount),
                "currency": refund.currency,
                "case_id": refund.case_id,
                "gateway_ref": refund.gateway_ref,
            },
            customer_visible=refund.status != RefundStatus.SUBMITTED,
        ),
    )
