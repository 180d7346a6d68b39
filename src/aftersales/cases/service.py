"""Use cases of after-sales cases: preview, submit, act, read. Every change goes through the
kind's transition table, appends a timeline entry and leaves an outbox message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import structlog
from prometheus_client import Counter
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from aftersales.cases import carrier, domain, views
from aftersales.cases.domain import AWAITING_DECISION, FINAL, CaseAction, CaseKind, CaseStatus
from aftersales.cases.eligibility import (
    build_facts,
    dry_run_facts,
    eligibility_facts,
    evaluate,
    local_today,
    order_line,
    preview,
)
from aftersales.cases.models import Case, CaseEvidence, CaseLine
from aftersales.cases.notices import refund_notice_facts
from aftersales.cases.platform import (
    disputable_case_in,
    escalation_offered,
    hand_to_platform_in,
    provide_escalation_offer,
)
from aftersales.cases.recording import record as _record
from aftersales.cases.repository import CasesRepository
from aftersales.cases.schemas import (
    ActionIn,
    CaseDraft,
    CaseOut,
    CaseSummary,
    EvidenceIn,
    LineDecision,
    Preview,
)
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.kit.ids import refuse_other_request, request_fingerprint
from aftersales.kit.money import share_of_units
from aftersales.kit.pagination import Page, PageRequest
from aftersales.messaging import live, scans
from aftersales.notifications import service as notifications
from aftersales.orders import service as orders
from aftersales.orders.schemas import LineFacts, OrderFacts
from aftersales.refunds import service as refunds
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SubjectType

log = structlog.get_logger(__name__)
REVIEW_SCAN = "case_reviews"
SUPERVISORS = "desk:supervisor"  # the live channel supervisors' pages listen on
REVIEW_ESCALATIONS = Counter(
    "aftersales_case_review_escalations",
    "Case reviews whose deadline passed without a decision (escalated to the supervisors)",
)


# --- submission ----------------------------------------------------------------------------------
def submit(
    db: Database, draft: CaseDraft, viewer: Principal, *, via: str, idempotency_key: str | None = None
) -> CaseOut:
    """Create a case when the policies allow it; low-risk cases are approved at once."""
    key = f"{viewer.user_id}:{idempotency_key}" if idempotency_key else None
    fingerprint = request_fingerprint("cases.submit", draft.model_dump()) if key else None
    with db.write() as uow:
        session = uow.session
        repo = CasesRepository(session)
        if key and (existing := repo.by_idempotency_key(key)) is not None:
            # Cases from before fingerprints were kept (None) answer as before.
            refuse_other_request(
                str(idempotency_key), existing.idempotency_fingerprint, str(fingerprint), f"case {existing.number}"
            )
            return views.case_view(session, existing, viewer)
        order = orders.order_facts(session, draft.order_number, viewer)
        if viewer.role is Role.CUSTOMER and order.customer_id != viewer.customer_id:
            raise NotFound(
                f"No order '{draft.order_number}' that you can see.",
                key="error.order_not_visible",
                ref=draft.order_number,
            )
        if draft.kind is CaseKind.COMPENSATION:
            # Claims on one order are checked against its cap one after the other (PostgreSQL).
            orders.money_facts_in(session, order.order_id, lock=True)
        outcome, picked = evaluate(session, order, draft)
        if outcome.compensation_claimable is not None and outcome.amount > outcome.compensation_claimable:
            assert outcome.compensation_cap is not None
            zh, en = domain.compensation_over_cap(
                order.number, order.currency, outcome.compensation_cap, outcome.compensation_claimable
            )
            raise Invalid(en, reason_zh=zh, claimable=str(outcome.compensation_claimable))
        if not outcome.eligible:
            raise Conflict(
                f"Not eligible: {outcome.reason_en or 'no policy allows it'} "
                f"(policies: {', '.join(outcome.policy_keys)})",
                reason_zh=outcome.reason_zh,
            )
        case = _create(session, order, draft, outcome, picked, viewer, via, key)
        case.idempotency_fingerprint = fingerprint
        if outcome.approval == "auto":
            # Only a policy approves at submission; the timeline names it.
            note = f"note.auto_approved_by:{', '.join(outcome.approval_policies)}"
            _apply(session, case, ActionIn(action=CaseAction.APPROVE, note=note), SYSTEM)
        uow.commit()
        return views.case_view(session, case, viewer)


def _create(
    session: Session,
    order: OrderFacts,
    draft: CaseDraft,
    outcome: Preview,
    picked: list[tuple[LineFacts, int]],
    viewer: Principal,
    via: str,
    key: str | None,
) -> Case:
    now = clock.now()
    # Field by field on purpose: Case's own fields; look-alikes elsewhere build others'.
    case = Case(
        number=f"tmp-{now.timestamp()}-{viewer.user_id}"[:24],
        kind=draft.kind.value,
        status=CaseStatus.UNDER_REVIEW.value,
        order_id=order.order_id,
        order_number=order.number,
        customer_id=order.customer_id,
        merchant_id=order.merchant_id,
        reason=draft.reason.value,
        description=draft.description,
        currency=order.currency,
        requested_amount=outcome.amount,
        allowed_resolutions=outcome.resolutions,
        offers=outcome.offers,
        return_shipping_paid_by=outcome.return_shipping_paid_by,
        return_method=draft.return_method,
        eligibility_reason=outcome.reason_en,
        policy_keys=outcome.policy_keys,
        review_due_at=now + timedelta(hours=outcome.review_hours),
        review_check_at=now + timedelta(hours=outcome.review_hours),
        compensation_cap=outcome.compensation_cap,
        submitted_via=via,
        submitted_by_user_id=viewer.user_id or None,
        idempotency_key=key,
        created_at=now,
        updated_at=now,
        lines=[
            # Field by field on purpose: CaseLine's own fields; look-alikes elsewhere build others'.
            CaseLine(
                order_line_id=line.line_id,
                line_no=line.line_no,
                sku_code=line.sku_code,
                product_name=line.product_name,
                category_code=line.category_code,
                quantity=qty,
                unit_price=line.unit_price,
                amount=decided.amount if decided else None,
            )
            for (line, qty), decided in zip(picked, _line_amounts(outcome, len(picked)), strict=True)
        ],
        evidence=[],
    )
    session.add(case)
    session.flush()
    case.number = domain.case_number(local_today(), case.id)
    _add_evidence(case, draft.evidence, viewer)
    _record(
        session, case, "case.submitted", viewer, None, case.status, draft.description or f"reason.{draft.reason.value}"
    )
    return case


def _line_amounts(outcome: Preview, count: int) -> list[LineDecision | None]:
    """The preview's decision per picked line, in the same order (none from an older caller)."""
    return list(outcome.lines) if len(outcome.lines) == count else [None] * count


def create_without_policy(
    session: Session, order: OrderFacts, draft: CaseDraft, by: Principal, *, via: str, note: str
) -> Case:
    """A case the platform itself opens and approves (out of stock, an intercept): no policy
    decides, the refund starts at once, inside the caller's transaction."""
    picked = [(order_line(order, line_in.line_no), line_in.quantity) for line_in in draft.lines]
    claimed = CasesRepository(session).claimed_per_line(order.order_id)
    decided = [
        LineDecision(
            line_no=line.line_no,
            product_name=line.product_name,
            quantity=qty,
            claimable=line.quantity - claimed.get(line.line_id, 0),
            # What these units were paid, not their list price.
            amount=share_of_units(line.paid, line.quantity, claimed.get(line.line_id, 0), qty, order.currency),
            eligible=True,
            reason=note,
        )
        for line, qty in picked
    ]
    amount = sum((d.amount for d in decided), Decimal(0))
    outcome = Preview(
        eligible=True,
        reason_zh=note,
        reason_en=note,
        approval="auto",
        review_hours=1,
        return_shipping_paid_by="merchant",
        resolutions=["refund"],
        offers=[],
        amount=amount,
        currency=order.currency,
        lines=decided,
        policy_keys=[],
    )
    case = _create(session, order, draft, outcome, picked, by, via, None)
    _apply(session, case, ActionIn(action=CaseAction.APPROVE, note=note), SYSTEM)
    return case


# --- actions -------------------------------------------------------------------------------------
def act(db: Database, number: str, data: ActionIn, viewer: Principal) -> CaseOut:
    with db.write() as uow:
        # The row stays locked until commit (PostgreSQL): a second agent acting at the same moment
        # waits, then sees the first one's result and gets a 409 with it, never a double approval.
        case = CasesRepository(uow.session).by_number(number, viewer, lock=True)
        if case is None:
            raise NotFound(f"No case '{number}' that you can see.", key="error.case_not_visible", ref=number)
        if data.version is not None and data.version != case.version:
            raise Conflict(
                f"Case {number} changed since you loaded it (version {case.version}, yours {data.version}). "
                "Reload and try again.",
                current=_current(case),
            )
        current = _current(case)  # before _apply: a flush inside it bumps the version in memory
        try:
            _apply(uow.session, case, data, viewer)
            uow.commit()
        except Conflict as exc:
            exc.details.setdefault("current", current)
            raise
        except StaleDataError as exc:
            raise Conflict(
                f"Case {number} was changed by someone else at the same time. Reload and try again."
            ) from exc
        return views.case_view(uow.session, case, viewer)


def _current(case: Case) -> dict[str, Any]:
    """The state a refused writer should reload to, carried in the 409's body."""
    return {"number": case.number, "status": case.status, "version": case.version}


class StoredPhotoLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def size(self) -> int: ...


def attach_photos(db: Database, number: str, stored: Sequence[StoredPhotoLike], viewer: Principal) -> None:
    """Add uploaded photos to a case the viewer can see; the status does not change."""
    if not stored:
        return
    with db.write() as uow:
        case = CasesRepository(uow.session).by_number(number, viewer)
        if case is None:
            raise NotFound(f"No case '{number}' that you can see.", key="error.case_not_visible", ref=number)
        _add_evidence(
            case, [EvidenceIn(kind="photo", uri=f"/cases/{case.number}/photos/{p.name}") for p in stored], viewer
        )
        case.updated_at = clock.now()
        _record(uow.session, case, "case.photos_added", viewer, case.status, case.status, "note.photos_added")
        try:
            uow.commit()
        except StaleDataError as exc:
            raise Conflict(
                f"Case {number} was changed by someone else at the same time. Reload and try again."
            ) from exc


def _apply(session: Session, case: Case, data: ActionIn, by: Principal) -> None:
    kind, status, action = CaseKind(case.kind), CaseStatus(case.status), data.action
    if by is not SYSTEM and by.role not in domain.ACTORS[action]:
        raise Forbidden(f"Your role '{by.role.value}' may not '{action.value}' a case.")
    target = domain.next_status(kind, status, action)
    if target is None:
        raise Conflict(domain.refusal(kind, status, action))
    if action is CaseAction.RECEIVE and not domain.goods_sent(case.return_tracking, case.pickup_at):
        raise Conflict(domain.NOT_SENT_YET)
    if action in domain.NEEDS_REASON and not data.note.strip():
        raise Invalid(f"'{action.value}' needs a note saying why.")
    if action in domain.NEEDS_TRACKING and not data.tracking_number.strip():
        raise Invalid(f"'{action.value}' needs a tracking number (and carrier).")
    if action is CaseAction.BOOK_PICKUP and data.pickup_at is None:
        raise Invalid("'book_pickup' needs pickup_at, the time the courier should come.")
    if action is CaseAction.BOOK_PICKUP and data.pickup_at is not None:
        refusal = domain.pickup_refusal(data.pickup_at, clock.now())
        if refusal:
            raise Invalid(refusal[1], reason_zh=refusal[0])
    if action is CaseAction.APPROVE and kind is CaseKind.COMPENSATION:
        _check_within_cap(session, case, data.amount if data.amount is not None else case.requested_amount)
    _side_effects(session, case, kind, action, data, target)
    _add_evidence(case, data.evidence, by)
    if action in domain.NEEDS_TRACKING:
        _add_evidence(case, [EvidenceIn(kind="tracking", text=f"{data.carrier} {data.tracking_number}".strip())], by)
    if action is CaseAction.ISSUE_INVOICE:
        _add_evidence(case, [EvidenceIn(kind="invoice", text=data.note or "invoice issued")], by)
    previous = case.status
    case.status = target.value
    case.updated_at = clock.now()
    if target not in AWAITING_DECISION:
        case.review_check_at = None  # decided: nothing left for the review sweep
    if target in FINAL:
        case.closed_at = clock.now()
    evidence = {"tracking": f"{data.carrier} {data.tracking_number}".strip()} if data.tracking_number else {}
    _record(session, case, f"case.{action.value}", by, previous, case.status, data.note, evidence)


def _check_within_cap(session: Session, case: Case, amount: Decimal) -> None:
    """An approval never takes the order's compensation past the cap decided at submission."""
    if case.compensation_cap is None:
        return
    others = CasesRepository(session).compensation_claimed(case.order_id, except_case_id=case.id)
    left = max(case.compensation_cap - others, Decimal("0.00"))
    if amount > left:
        zh, en = domain.compensation_over_cap(case.order_number, case.currency, case.compensation_cap, left)
        raise Invalid(f"Approve at most {left} {case.currency}: {en}", reason_zh=zh)


def _side_effects(
    session: Session, case: Case, kind: CaseKind, action: CaseAction, data: ActionIn, target: CaseStatus
) -> None:
    if action is CaseAction.APPROVE:
        if data.amount is not None:
            domain.check_approved_amount(
                data.amount,
                case.requested_amount,
                _still_refundable(session, case, kind),
                case.currency,
                case.order_number,
            )
        case.approved_amount = data.amount if data.amount is not None else case.requested_amount
    if action is CaseAction.SHIP_BACK:
        case.return_method = case.return_method or "mail_back"
        case.return_carrier, case.return_tracking = data.carrier, data.tracking_number
    if action is CaseAction.BOOK_PICKUP and data.pickup_at is not None:
        address = orders.return_address(session, case.merchant_id)
        booking = carrier.default_courier().book_pickup(carrier.pickup_key(case.id), data.pickup_at, address)
        case.return_method, case.pickup_at, case.pickup_reference = "pickup", booking.pickup_at, booking.reference
    if target is CaseStatus.REFUNDING:
        case.resolution = "refund"
        amount = case.approved_amount if case.approved_amount is not None else case.requested_amount
        # One refund per business fact; a retry after a failure gets a key derived from the failed one's.
        # Keyword arguments written out on purpose: look-alike calls elsewhere pass other things.
        refunds.request_refund(
            session,
            order_id=case.order_id,
            order_number=case.order_number,
            case_id=case.id,
            amount=amount,
            currency=case.currency,
            reason=f"note.refund_for_case:{case.number}",  # a note key: each reader sees it in their language
            business_key=domain.refund_business_key(case.id, [x.line_no for x in case.lines], case.reason),
            lines=domain.refund_parts(kind, amount, _asked_per_line(case), case.currency),
        )
    if target is CaseStatus.RESOLVING:
        case.resolution = "exchange"
    if target is CaseStatus.REPAIRING:
        case.resolution = "repair"
    if kind is CaseKind.INVOICE and target is CaseStatus.COMPLETED:
        case.resolution = "invoice"


def _asked_per_line(case: Case) -> list[tuple[int, Decimal]]:
    # Cases from before paid shares have no amount per line: unit price × quantity weighs them.
    return [(x.order_line_id, x.amount if x.amount is not None else x.unit_price * x.quantity) for x in case.lines]


def _still_refundable(session: Session, case: Case, kind: CaseKind) -> Decimal | None:
    """What the case's lines (the order, for compensation) can still refund; None when no money moves."""
    if kind not in domain.REFUND_KINDS:
        return None
    on_order = refunds.refundable_amount(session, case.order_id)
    if kind not in domain.LINE_REFUND_KINDS or not case.lines:
        return on_order
    ids = {x.order_line_id for x in case.lines}
    on_lines = sum((x.left for x in refunds.refundable_by_line(session, case.order_id) if x.line_id in ids), Decimal(0))
    return min(on_order, on_lines)


def _add_evidence(case: Case, items: list[EvidenceIn], by: Principal) -> None:
    for item in items:
        if item.text or item.uri:
            case.evidence.append(
                CaseEvidence(
                    kind=item.kind,
                    text=item.text,
                    uri=item.uri,
                    added_by=by.display_name or by.username,
                    added_at=clock.now(),
                    customer_visible=item.kind != "note" or by.role is Role.CUSTOMER,
                )
            )


# --- system events -------------------------------------------------------------------------------
def on_refund_settled(db: Database, case_id: int, succeeded: bool) -> None:
    """The gateway confirmed a case's refund; a repeat of the same confirmation changes nothing.
    A failed refund is put in front of the people who retry it: an alert to each active
    supervisor and tier-2 agent (once per failure), and the cases list's alert."""
    with db.write() as uow:
        case = CasesRepository(uow.session).by_id(case_id)
        if case is None or case.status != CaseStatus.REFUNDING.value:
            return
        action = CaseAction.REFUND_SETTLED if succeeded else CaseAction.REFUND_FAILED
        # The history says what happened: paid back, or declined with what comes next.
        note = "note.gateway_confirmed" if succeeded else "note.refund_declined"
        _apply(uow.session, case, ActionIn(action=action, note=note), SYSTEM)
        live.notify(uow.session, SUPERVISORS, "refund_failed", audience=live.STAFF)
        number, version = case.number, case.version
        uow.commit()
    if not succeeded:
        people = [(u.id, u.locale) for r in domain.REFUND_RETRIERS for u in identity.list_users(db, r) if u.active]
        key = f"refund.failed:{case_id}:{version}"
        notifications.alert_staff(db, people, "staff.refund_failed", {"case": number}, key)


def status_in(session: Session, number: str) -> str | None:
    """A case's status (tickets keep a ticket open while its case's refund has failed)."""
    case = CasesRepository(session).by_number(number, SYSTEM)
    return case.status if case is not None else None


def sweep_due_reviews(db: Database, limit: int = 200) -> int:
    """Reviews nobody finished by their deadline are escalated to the supervisors, once per case:
    never approved (money leaves only by a person's decision, or a policy's at submission). Each
    case is handled in its own transaction; one that fails is logged, counted in /metrics and
    tried again later with back-off, and the others go on. Returns how many were escalated."""
    now = clock.now()
    with db.read() as uow:
        due = CasesRepository(uow.session).due_reviews(now, limit)
    escalated = 0
    for case_id in due:
        try:
            escalated += _escalate_review(db, case_id, now)
        except StaleDataError:
            continue  # someone acted on the case meanwhile; the next sweep reads it afresh
        except Exception as exc:
            _review_sweep_failed(db, case_id, exc)
    return escalated


def _escalate_review(db: Database, case_id: int, now: datetime) -> int:
    with db.write() as uow:
        case = CasesRepository(uow.session).due_review(case_id, now, skip_locked=not db.is_sqlite)
        if case is None:
            return 0  # decided meanwhile, or another worker has it
        kind, status = CaseKind(case.kind), CaseStatus(case.status)
        if domain.next_status(kind, status, CaseAction.APPROVE) is None:
            raise Conflict(domain.refusal(kind, status, CaseAction.APPROVE))
        case.review_escalated_at = now
        case.review_check_at = None
        case.review_sweep_failures = 0
        case.updated_at = now
        due_at = case.review_due_at.isoformat() if case.review_due_at else ""
        _record(
            uow.session,
            case,
            "case.review_escalated",
            SYSTEM,
            case.status,
            case.status,
            "note.review_escalated",
            {"review_due_at": due_at},
        )
        live.notify(uow.session, SUPERVISORS, "review_escalated", audience=live.STAFF)
        uow.commit()
        number = case.number
    REVIEW_ESCALATIONS.inc()
    log.warning("case.review_escalated", case=number, review_due_at=due_at)
    return 1


def accept_for_merchant_silence(db: Database, not_shipped_hours: int, shipped_hours: int, limit: int = 200) -> int:
    """A POP merchant that lets a buyer's request wait past its answer deadline (counted from the
    submission: `not_shipped_hours` before the goods shipped, `shipped_hours` after) accepts it
    (Taobao's rule, issue 15): the system approves, as the merchant would. Self-operated cases keep
    the review sweep (supervisors decide). Returns how many were accepted."""
    now = clock.now()
    with db.read() as uow:
        pop = orders.merchant_ids_of_kind_in(uow.session, "pop")
        waiting = CasesRepository(uow.session).waiting_on(
            pop, now - timedelta(hours=min(not_shipped_hours, shipped_hours)), limit
        )
    accepted = 0
    for case_id in waiting:
        try:
            with db.write() as uow:
                case = CasesRepository(uow.session).by_id(case_id)
                if case is None or case.status != CaseStatus.UNDER_REVIEW.value:
                    continue
                shipped = orders.order_facts_by_id(uow.session, case.order_id).shipped
                hours = shipped_hours if shipped else not_shipped_hours
                if clock.ensure_utc(case.created_at) + timedelta(hours=hours) > now:
                    continue
                if domain.next_status(CaseKind(case.kind), CaseStatus.UNDER_REVIEW, CaseAction.APPROVE) is None:
                    continue
                _apply(uow.session, case, ActionIn(action=CaseAction.APPROVE, note="note.merchant_silent"), SYSTEM)
                uow.commit()
                accepted += 1
        except StaleDataError:
            continue  # the merchant answered meanwhile
        except Exception as exc:
            scans.item_failed(REVIEW_SCAN, case_id, exc, 1)
    return accepted


# Same shape as disputes.service._sweep_failed on purpose: each context backs off its own rows.
def _review_sweep_failed(db: Database, case_id: int, error: Exception) -> None:
    """Put the case back with a growing delay; even this failing must not stop the sweep."""
    failures = 0
    try:
        with db.write() as uow:
            case = CasesRepository(uow.session).by_id(case_id)
            if case is not None:
                case.review_sweep_failures += 1
                failures = case.review_sweep_failures
                case.review_check_at = clock.now() + scans.retry_delay(failures)
                uow.commit()
    except Exception as exc:  # the case stays due and is tried on the next sweep
        log.error("case.review_backoff_failed", case_id=case_id, error=repr(exc))
    scans.item_failed(REVIEW_SCAN, case_id, error, failures)


# --- reads ---------------------------------------------------------------------------------------
def get_case(db: Database, number: str, viewer: Principal) -> CaseOut:
    with db.read() as uow:
        case = CasesRepository(uow.session).by_number(number, viewer)
        if case is None:
            raise NotFound(f"No case '{number}' that you can see.", key="error.case_not_visible", ref=number)
        return views.case_view(uow.session, case, viewer)


def list_cases(
    db: Database,
    viewer: Principal,
    request: PageRequest,
    *,
    status: str | None = None,
    kind: str | None = None,
    order_number: str | None = None,
    overdue: bool = False,
    escalated: bool = False,
) -> Page[CaseSummary]:
    with db.read() as uow:
        page = CasesRepository(uow.session).search(
            viewer,
            request,
            status=status,
            kind=kind,
            order_number=order_number,
            overdue_before=clock.now() if overdue else None,
            escalated=escalated,
        )
        return Page(items=[views.case_summary(c) for c in page.items], total=page.total, request=request)


# Re-exported: other contexts (and the rules' dry run, through the composition root) reach cases
# through this module.
__all__ = [
    "build_facts",
    "disputable_case_in",
    "dry_run_facts",
    "eligibility_facts",
    "escalation_offered",
    "hand_to_platform_in",
    "preview",
    "provide_escalation_offer",
    "refund_notice_facts",
]

# The audit log names cases by their numbers, never by row id.
timeline.name_subjects(SubjectType.CASE, lambda session, ids: CasesRepository(session).numbers_by_id(ids))


def opened_per_interval(db: Database, since: datetime, until: datetime, seconds: int) -> dict[datetime, int]:
    """After-sales cases opened in [since, until), counted per interval of `seconds` (by its start):
    the staffing forecast's workload."""
    with db.read() as uow:
        counts = CasesRepository(uow.session).opened_per_interval(since, until, seconds)
    return {since + timedelta(seconds=i * seconds): n for i, n in counts.items()}
