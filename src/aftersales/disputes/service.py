"""Use cases of disputes: escalate a case, add evidence, rule, enforce, appeal, settle, withdraw,
read; and the sweep that keeps the process's deadlines. Every change goes through the transition
table (flow.move), appends a timeline entry and leaves an outbox event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from aftersales.cases import service as cases
from aftersales.cases.schemas import CaseOut
from aftersales.db.uow import Database
from aftersales.disputes import domain, enforcement, flow, views
from aftersales.disputes.domain import DisputeAction, DisputeStatus, EvidenceKind, Outcome, Party
from aftersales.disputes.events import DisputeAppealDecided, DisputeRuled
from aftersales.disputes.models import Dispute
from aftersales.disputes.repository import DisputesRepository
from aftersales.disputes.schemas import (
    AcceptIn,
    AppealDecisionIn,
    DepositEntryOut,
    DepositOut,
    DisputeOut,
    DisputeSummary,
    EscalateIn,
    EvidenceIn,
    RequestEvidenceIn,
    RuleIn,
)
from aftersales.disputes.settings import deadlines, dispute_settings
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.messaging import live, scans
from aftersales.messaging.outbox import publish_event
from aftersales.notifications import service as notifications
from aftersales.orders import service as orders
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SubjectType

log = structlog.get_logger(__name__)
SCAN = "dispute_deadlines"
SUPERVISORS = "desk:supervisor"
ESCALATORS = frozenset({Role.CUSTOMER, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN})


# --- escalation -----------------------------------------------------------------------------------
def notice_facts(_db: Database, _params: dict[str, Any]) -> dict[str, int]:
    """What a customer's notice says of disputes (bound into notifications as a port): how long after
    a refusal the platform may be asked to step in, from the same setting the escalation obeys."""
    return {"escalation_window_hours": deadlines().escalation_window}


def escalation_offered(case: CaseOut, viewer: Principal) -> bool:
    """Whether a case page offers "ask the platform to step in" (bound into cases as a port)."""
    if viewer.role not in ESCALATORS:
        return False
    return domain.escalation_open(case.status, case.closed_at, case.review_due_at, clock.now(), deadlines())


def escalate(db: Database, data: EscalateIn, viewer: Principal) -> DisputeOut:
    """Hand a refused or stalled case to the platform. The same case twice gives the same dispute."""
    if viewer.role not in ESCALATORS:
        raise Forbidden(f"Your role '{viewer.role.value}' may not ask the platform to step in.")
    with db.write() as uow:
        session = uow.session
        case = cases.disputable_case_in(session, data.case_number, viewer)
        repo = DisputesRepository(session)
        existing = repo.for_case(case.case_id)
        if existing is not None:
            return views.dispute_view(session, existing, viewer)
        refusal = domain.escalation_refusal(case.status, case.closed_at, case.review_due_at, clock.now(), deadlines())
        if refusal:
            raise Conflict(refusal)
        order = orders.order_facts_by_id(session, case.order_id)
        now = clock.now()
        dispute = Dispute(
            number=f"tmp-{case.case_id}",
            case_id=case.case_id,
            case_number=case.number,
            order_id=case.order_id,
            order_number=case.order_number,
            customer_id=case.customer_id,
            merchant_id=case.merchant_id,
            currency=case.currency,
            paid=case.paid,
            order_total=order.payable_total,
            claim=data.claim.strip(),
            status=DisputeStatus.ESCALATED.value,
            state_since=now,
            escalated_by_user_id=viewer.user_id or None,
            ruling_evidence=[],
            created_at=now,
            updated_at=now,
        )
        repo.add_dispute(dispute)
        dispute.number = domain.dispute_number(now.date(), dispute.id)
        flow.schedule(dispute)
        cases.hand_to_platform_in(session, case.case_id, viewer, f"note.dispute_escalated:{dispute.number}")
        _attach_records(session, dispute, case.case_id, order.model_dump(mode="json"))
        flow.record(session, dispute, "escalate", viewer, None, dispute.status, dispute.claim)
        live.notify(session, SUPERVISORS, "dispute_escalated", audience=live.STAFF)
        uow.commit()
        return views.dispute_view(session, dispute, viewer)


def _attach_records(session: Session, dispute: Dispute, case_id: int, order: dict[str, Any]) -> None:
    """E-commerce law art. 62: the records the platform holds go on the chain at escalation."""
    lines = [
        {k: x[k] for k in ("line_no", "sku_code", "product_name", "quantity", "unit_price", "paid")}
        for x in order["lines"]
    ]
    snapshot = {k: order[k] for k in ("number", "status", "currency", "payable_total", "placed_at", "merchant_name")}
    flow.append_evidence(dispute, Party.SYSTEM, EvidenceKind.ORDER_SNAPSHOT, SYSTEM, data={**snapshot, "lines": lines})
    flow.append_evidence(
        dispute,
        Party.SYSTEM,
        EvidenceKind.PAYMENT_RECORD,
        SYSTEM,
        data={"paid_at": order["paid_at"], "payable_total": order["payable_total"], "currency": order["currency"]},
    )
    flow.append_evidence(
        dispute,
        Party.SYSTEM,
        EvidenceKind.LOGISTICS_PROOF,
        SYSTEM,
        data={"shipped": order["shipped"], "delivered_at": order["delivered_at"], "hours_late": order["hours_late"]},
    )
    # The buyer and merchant's exchange on the case: every step with who said what.
    chat = [
        {"at": e.occurred_at.isoformat(), "who": e.actor_name, "action": e.action, "said": e.reason}
        for e in timeline.entries_for(session, [(SubjectType.CASE.value, case_id)], customer_view=False)
    ]
    flow.append_evidence(dispute, Party.SYSTEM, EvidenceKind.CHAT_LOG, SYSTEM, data={"entries": chat})


# --- acting on a dispute --------------------------------------------------------------------------
def _act(
    db: Database, number: str, viewer: Principal, apply: Callable[[Session, Dispute], None], version: int | None = None
) -> DisputeOut:
    with db.write() as uow:
        dispute = DisputesRepository(uow.session).by_number(number, viewer, lock=True)
        if dispute is None:
            raise NotFound(f"No dispute '{number}' that you can see.")
        if version is not None and version != dispute.version:
            raise Conflict(f"Dispute {number} changed since you loaded it. Reload and try again.")
        try:
            apply(uow.session, dispute)
            uow.commit()
        except StaleDataError as exc:
            raise Conflict(
                f"Dispute {number} was changed by someone else at the same time. Reload and try again."
            ) from exc
        return views.dispute_view(uow.session, dispute, viewer)


def accept(db: Database, number: str, data: AcceptIn, viewer: Principal) -> DisputeOut:
    def apply(session: Session, dispute: Dispute) -> None:
        dispute.awaiting, dispute.round = data.awaiting.value, 1
        flow.move(session, dispute, DisputeAction.ACCEPT, viewer, data.note, {"awaiting": data.awaiting.value})

    return _act(db, number, viewer, apply)


def request_evidence(db: Database, number: str, data: RequestEvidenceIn, viewer: Principal) -> DisputeOut:
    def apply(session: Session, dispute: Dispute) -> None:
        flow.check(dispute, DisputeAction.REQUEST_EVIDENCE, viewer, data.note)
        domain.check_round(dispute.round, deadlines())
        dispute.awaiting, dispute.round = data.awaiting.value, dispute.round + 1
        flow.move(
            session, dispute, DisputeAction.REQUEST_EVIDENCE, viewer, data.note, {"awaiting": data.awaiting.value}
        )

    return _act(db, number, viewer, apply)


def submit_evidence(
    db: Database, number: str, data: EvidenceIn, viewer: Principal, files: Sequence[dict[str, Any]] = ()
) -> DisputeOut:
    """Append to the chain. A side named in the round answers it; when every side named has, the
    round ends and the arbitrator reviews."""
    if data.kind not in domain.PARTY_KINDS:
        raise Invalid(f"'{data.kind.value}' is attached by the system, not submitted.")
    if not data.text.strip() and not files:
        raise Invalid("Evidence needs a description or a file.")

    def apply(session: Session, dispute: Dispute) -> None:
        party = domain.party_of(viewer.role)
        status = DisputeStatus(dispute.status)
        flow.check(dispute, DisputeAction.SUBMIT_EVIDENCE, viewer)
        if (
            status is DisputeStatus.AWAITING_EVIDENCE
            and party is not Party.PLATFORM
            and not domain.owes(dispute.awaiting, party)
        ):
            raise Conflict(f"This round asks evidence of the {dispute.awaiting}, not of the {party.value}.")
        if status is DisputeStatus.ENFORCING and (
            party is not Party.MERCHANT or data.kind is not EvidenceKind.REFUND_PROOF
        ):
            raise Conflict("While the ruling is enforced, only the merchant's offline refund proof is added.")
        item = flow.append_evidence(dispute, party, data.kind, viewer, data.text.strip(), list(files))
        session.flush()
        flow.move(
            session,
            dispute,
            DisputeAction.SUBMIT_EVIDENCE,
            viewer,
            data.text.strip()[:200],
            {"evidence_id": item.id, "kind": data.kind.value},
        )
        if status is DisputeStatus.AWAITING_EVIDENCE and not _owed(dispute):
            flow.move(session, dispute, DisputeAction.EVIDENCE_CLOSED, SYSTEM, "note.dispute_evidence_complete")

    return _act(db, number, viewer, apply)


def _owed(dispute: Dispute) -> list[Party]:
    answered = {
        Party(e.party) for e in dispute.evidence if e.round == dispute.round and e.party in ("buyer", "merchant")
    }
    return domain.still_owed(dispute.awaiting, answered)


def rule(db: Database, number: str, data: RuleIn, viewer: Principal) -> DisputeOut:
    """The arbitrator's ruling, with its reasons and the evidence it rests on; money moves at once."""

    def apply(session: Session, dispute: Dispute) -> None:
        flow.check(dispute, DisputeAction.RULE, viewer, data.reasons)
        if dispute.senior_at is not None and viewer.role not in domain.SENIOR:
            raise Forbidden("This review passed its deadline and waits for a senior arbitrator.")
        domain.check_ruling(
            data.liability, data.outcome, data.reasons, data.evidence_ids, {e.id for e in dispute.evidence}
        )
        amount = domain.award(data.outcome, dispute.paid, dispute.order_total, data.amount)
        now = clock.now()
        dispute.liability, dispute.outcome, dispute.award = data.liability.value, data.outcome.value, amount
        dispute.reasons, dispute.ruling_evidence = data.reasons.strip(), sorted(set(data.evidence_ids))
        dispute.ruled_by, dispute.ruled_at = viewer.display_name or viewer.username, now
        flow.move(
            session,
            dispute,
            DisputeAction.RULE,
            viewer,
            dispute.reasons,
            {"liability": dispute.liability, "outcome": dispute.outcome, "amount": str(amount)},
        )
        # Field by field on purpose: DisputeRuled's own fields; look-alikes elsewhere build others'.
        publish_event(
            session,
            DisputeRuled(
                dispute_id=dispute.id,
                dispute_number=dispute.number,
                order_number=dispute.order_number,
                merchant_id=dispute.merchant_id,
                liability=dispute.liability,
                outcome=dispute.outcome,
                amount=str(amount),
                currency=dispute.currency,
                occurred_at=now.isoformat(),
            ),
            idempotency_key=f"dispute:{dispute.id}:ruled",
        )
        enforcement.enforce_in(session, dispute)

    return _act(db, number, viewer, apply, data.version)


def confirm_enforced(db: Database, number: str, viewer: Principal, note: str = "") -> DisputeOut:
    """By hand: the merchant's offline refund (its proof is on the chain), or the returned goods
    received (the refund then starts)."""

    def apply(session: Session, dispute: Dispute) -> None:
        flow.check(dispute, DisputeAction.ENFORCED, viewer)
        if dispute.funding == domain.Funding.AWAITING_RETURN.value:
            if viewer.role is Role.CUSTOMER:
                raise Forbidden("The merchant or an arbitrator confirms the goods came back.")
            flow.record(session, dispute, "return_received", viewer, dispute.status, dispute.status, note)
            enforcement.fund_in(session, dispute, Outcome.FULL_REFUND)
            return
        if dispute.funding != domain.Funding.OFFLINE.value or viewer.role is not Role.MERCHANT:
            raise Conflict("Only the merchant confirms an offline refund, and only when the ruling asked for one.")
        proofs = [e for e in dispute.evidence if e.kind == EvidenceKind.REFUND_PROOF.value and e.party == "merchant"]
        if not proofs:
            raise Invalid("Upload the offline refund's proof first (evidence of kind refund_proof).")
        flow.move(
            session,
            dispute,
            DisputeAction.ENFORCED,
            viewer,
            note or "note.dispute_paid_offline",
            {"funding": dispute.funding, "proof": proofs[-1].id},
        )

    return _act(db, number, viewer, apply)


def appeal(db: Database, number: str, note: str, viewer: Principal) -> DisputeOut:
    def apply(session: Session, dispute: Dispute) -> None:
        if dispute.liability != domain.Liability.MERCHANT.value:
            raise Conflict("Only a ruling against the merchant can be appealed by it.")
        if dispute.ruled_at is not None and clock.now() > clock.ensure_utc(dispute.ruled_at) + timedelta(
            hours=deadlines().appeal_window
        ):
            raise Conflict("The appeal window has passed; the ruling is final.")
        flow.move(session, dispute, DisputeAction.APPEAL, viewer, note)

    return _act(db, number, viewer, apply)


def decide_appeal(db: Database, number: str, data: AppealDecisionIn, viewer: Principal) -> DisputeOut:
    def apply(session: Session, dispute: Dispute) -> None:
        flow.check(dispute, DisputeAction.DECIDE_APPEAL, viewer, data.note)
        dispute.appeal_result = data.result.value
        if data.result is domain.AppealResult.OVERTURNED:
            enforcement.reverse_in(session, dispute)
        flow.move(session, dispute, DisputeAction.DECIDE_APPEAL, viewer, data.note, {"result": data.result.value})
        # Field by field on purpose: DisputeAppealDecided's own fields; look-alikes elsewhere build others'.
        publish_event(
            session,
            DisputeAppealDecided(
                dispute_id=dispute.id,
                dispute_number=dispute.number,
                merchant_id=dispute.merchant_id,
                result=data.result.value,
                occurred_at=clock.now().isoformat(),
            ),
            idempotency_key=f"dispute:{dispute.id}:appeal_decided",
        )

    return _act(db, number, viewer, apply)


def settle(db: Database, number: str, note: str, viewer: Principal) -> DisputeOut:
    return _act(db, number, viewer, lambda s, d: flow.move(s, d, DisputeAction.SETTLE, viewer, note))


def withdraw(db: Database, number: str, note: str, viewer: Principal) -> DisputeOut:
    return _act(db, number, viewer, lambda s, d: flow.move(s, d, DisputeAction.WITHDRAW, viewer, note))


# --- system events and the deadline sweep ---------------------------------------------------------
def on_refund_settled(db: Database, refund_id: int, succeeded: bool) -> None:
    """The gateway confirmed a ruling's refund; a repeat of the same confirmation changes nothing."""
    with db.write() as uow:
        dispute = DisputesRepository(uow.session).enforcing_with_refund(refund_id)
        if dispute is None:
            return
        enforcement.refund_settled_in(uow.session, dispute, succeeded)
        uow.commit()


def accept_silent_cases(db: Database) -> int:
    """Case awaiting a POP merchant past its answer deadline: the buyer's request is accepted."""
    s = dispute_settings()
    return cases.accept_for_merchant_silence(db, s.merchant_answer_not_shipped_hours, s.merchant_answer_shipped_hours)


def sweep(db: Database, limit: int = 200) -> int:
    """Each dispute whose deadline came is handled in its own transaction, through the partial
    index on check_at; one that fails is logged, counted in /metrics and retried with back-off.
    Returns how many were moved on."""
    now = clock.now()
    with db.read() as uow:
        due = DisputesRepository(uow.session).due(now, limit)
    done = 0
    for dispute_id in due:
        try:
            done += _on_deadline(db, dispute_id, now)
        except StaleDataError:
            continue  # someone acted meanwhile; the next sweep reads it afresh
        except Exception as exc:
            _sweep_failed(db, dispute_id, exc)
    return done


def _on_deadline(db: Database, dispute_id: int, now: datetime) -> int:
    with db.write() as uow:
        session = uow.session
        dispute = DisputesRepository(session).due_one(dispute_id, now, skip_locked=not db.is_sqlite)
        if dispute is None:
            return 0
        status = DisputeStatus(dispute.status)
        dispute.check_at = None  # handled; a move below schedules the next deadline
        if status is DisputeStatus.ESCALATED:
            dispute.accept_overdue_at = now
            flow.record(
                session,
                dispute,
                "accept_overdue",
                SYSTEM,
                dispute.status,
                dispute.status,
                "note.dispute_accept_overdue",
            )
            live.notify(session, SUPERVISORS, "dispute_accept_overdue", audience=live.STAFF)
        elif status is DisputeStatus.AWAITING_EVIDENCE:
            for party in _owed(dispute):  # the silent side loses the point, on the record
                flow.append_evidence(
                    dispute, party, EvidenceKind.FORFEIT, SYSTEM, f"note.dispute_forfeit:{party.value}"
                )
            flow.move(
                session,
                dispute,
                DisputeAction.EVIDENCE_CLOSED,
                SYSTEM,
                "note.dispute_round_timed_out",
                {"silent": [p.value for p in _owed(dispute)]},
            )
        elif status is DisputeStatus.UNDER_REVIEW:
            dispute.senior_at = now
            flow.record(
                session, dispute, "senior_review", SYSTEM, dispute.status, dispute.status, "note.dispute_senior"
            )
            live.notify(session, SUPERVISORS, "dispute_senior", audience=live.STAFF)
        elif status is DisputeStatus.ENFORCING and dispute.funding == domain.Funding.OFFLINE.value:
            enforcement.offline_overdue_in(session, dispute)
        elif status in (DisputeStatus.RULED, DisputeStatus.ENFORCED):
            flow.move(session, dispute, DisputeAction.CLOSE, SYSTEM, "note.dispute_final")
        elif status is DisputeStatus.APPEALED:
            dispute.senior_at = dispute.senior_at or now
            flow.record(
                session,
                dispute,
                "appeal_overdue",
                SYSTEM,
                dispute.status,
                dispute.status,
                "note.dispute_appeal_overdue",
            )
            live.notify(session, SUPERVISORS, "dispute_appeal_overdue", audience=live.STAFF)
        uow.commit()
    return 1


# Same shape as cases.service._review_sweep_failed on purpose: each context backs off its own rows.
def _sweep_failed(db: Database, dispute_id: int, error: Exception) -> None:
    failures = 0
    try:
        with db.write() as uow:
            dispute = DisputesRepository(uow.session).by_id(dispute_id)
            if dispute is not None:
                dispute.sweep_failures += 1
                failures = dispute.sweep_failures
                dispute.check_at = clock.now() + scans.retry_delay(failures)
                uow.commit()
    except Exception as exc:  # the dispute stays due and is tried on the next sweep
        log.error("dispute.backoff_failed", dispute_id=dispute_id, error=repr(exc))
    scans.item_failed(SCAN, dispute_id, error, failures)


# --- deposits -------------------------------------------------------------------------------------
def top_up_deposit(
    db: Database, merchant_id: int, amount: Decimal, currency: str, key: str, by: Principal
) -> DepositOut:
    if by.role is not Role.ADMIN:
        raise Forbidden("Only an administrator records a merchant's deposit.")
    if amount <= 0:
        raise Invalid("A deposit top-up is above zero.")
    with db.write() as uow:
        enforcement.book(
            uow.session, merchant_id, currency, f"top_up:{key}", "top_up", amount, f"top-up by {by.username}"
        )
        uow.commit()
    return deposit(db, merchant_id, by)


def deposit(db: Database, merchant_id: int, viewer: Principal) -> DepositOut:
    if not viewer.is_platform_staff and viewer.merchant_id != merchant_id:
        raise NotFound("No such merchant deposit in your scope.")
    with db.read() as uow:
        repo = DisputesRepository(uow.session)
        row = repo.deposit(merchant_id)
        entries = [DepositEntryOut.model_validate(e) for e in repo.entries(merchant_id)]
        zero = Decimal("0.00")
        return DepositOut(
            merchant_id=merchant_id,
            currency=row.currency if row else "CNY",
            balance=row.balance if row else zero,
            receivable=row.receivable if row else zero,
            entries=entries,
        )


# --- reads ----------------------------------------------------------------------------------------
def get_dispute(db: Database, number: str, viewer: Principal) -> DisputeOut:
    with db.read() as uow:
        dispute = DisputesRepository(uow.session).by_number(number, viewer)
        if dispute is None:
            raise NotFound(f"No dispute '{number}' that you can see.")
        return views.dispute_view(uow.session, dispute, viewer)


def queue(db: Database, viewer: Principal, *, open_only: bool = True, limit: int = 100) -> list[DisputeSummary]:
    with db.read() as uow:
        return [
            views.summary(d) for d in DisputesRepository(uow.session).queue(viewer, open_only=open_only, limit=limit)
        ]


def dispute_for_case(db: Database, case_number: str, viewer: Principal) -> str | None:
    with db.read() as uow:
        case = cases.disputable_case_in(uow.session, case_number, viewer)
        found = DisputesRepository(uow.session).for_case(case.case_id)
        return found.number if found else None


# The audit log names disputes by their numbers, never by row id.
timeline.name_subjects(SubjectType.DISPUTE, lambda session, ids: DisputesRepository(session).numbers_by_id(ids))


def tell_merchant(db: Database, merchant_id: int, template: str, dispute_number: str, key: str) -> int:
    """The merchant's active staff hear of a ruling or an appeal's decision in their staff inbox,
    once per event however often it is delivered (merchant credit will consume the same events)."""
    people = [
        (u.id, u.locale)
        for role in (Role.MERCHANT, Role.WAREHOUSE)
        for u in identity.list_users(db, role)
        if u.active and u.merchant_id == merchant_id
    ]
    return notifications.alert_staff(db, people, template, {"dispute": dispute_number}, key)
