"""Moving a dispute through its transition table: the guard, the new deadline, the timeline entry
(who, when, why) and the outbox event, all in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from aftersales.disputes import domain
from aftersales.disputes.domain import FINAL, DisputeAction, DisputeStatus
from aftersales.disputes.events import DisputeStatusChanged
from aftersales.disputes.models import Dispute, DisputeEvidence
from aftersales.disputes.settings import deadlines
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal
from aftersales.kit.errors import Conflict, Forbidden, Invalid
from aftersales.messaging.outbox import publish_event
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of


def check(dispute: Dispute, action: DisputeAction, by: Principal, reason: str = "") -> DisputeStatus:
    """The state the action leads to; refused (403/409/422) when the role, state or reason say no."""
    if by is not SYSTEM and by.role not in domain.ACTORS[action]:
        raise Forbidden(f"Your role '{by.role.value}' may not '{action.value}' a dispute.")
    status = DisputeStatus(dispute.status)
    target = domain.next_status(status, action)
    if target is None:
        raise Conflict(domain.refusal(status, action), current={"number": dispute.number, "status": status.value})
    if action in domain.NEEDS_REASON and not reason.strip():
        raise Invalid(f"'{action.value}' needs a note saying why.")
    return target


def move(
    session: Session,
    dispute: Dispute,
    action: DisputeAction,
    by: Principal,
    reason: str = "",
    evidence: dict[str, Any] | None = None,
) -> None:
    target = check(dispute, action, by, reason)
    before = dispute.status
    now = clock.now()
    dispute.status = target.value
    dispute.updated_at = now
    if target.value != before:
        dispute.state_since = now
        schedule(dispute)
    if target in FINAL:
        dispute.closed_at = now
        dispute.retain_until = domain.retain_until(now)
        dispute.check_at = None
    record(session, dispute, action.value, by, before, dispute.status, reason, evidence)


def schedule(dispute: Dispute, deadline: Any = None) -> None:
    """Set the current state's deadline (its default from the settings unless given) and the sweep's
    next look at it."""
    due = (
        deadline
        if deadline is not None
        else domain.deadline_of(DisputeStatus(dispute.status), dispute.state_since, deadlines())
    )
    dispute.deadline_at = due
    dispute.check_at = due
    dispute.sweep_failures = 0


def record(
    session: Session,
    dispute: Dispute,
    action: str,
    by: Principal,
    before: str | None,
    after: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
) -> None:
    # Same Entry as cases.recording on purpose: each context records its own subject.
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.DISPUTE,
            subject_id=dispute.id,
            action=f"dispute.{action}",
            actor=actor_of(by),
            occurred_at=clock.now(),
            from_state=before,
            to_state=after,
            reason=reason,
            evidence=evidence or {},
        ),
    )
    if before != after:
        # Field by field on purpose: DisputeStatusChanged's own fields; look-alikes elsewhere build others'.
        publish_event(
            session,
            DisputeStatusChanged(
                dispute_id=dispute.id,
                dispute_number=dispute.number,
                case_number=dispute.case_number,
                order_number=dispute.order_number,
                customer_id=dispute.customer_id,
                merchant_id=dispute.merchant_id,
                action=action,
                from_status=before,
                to_status=after,
                occurred_at=clock.now().isoformat(),
            ),
            idempotency_key=f"dispute:{dispute.id}:{action}:{before}:{after}:{dispute.version}",
        )


def append_evidence(
    dispute: Dispute,
    party: domain.Party,
    kind: domain.EvidenceKind,
    by: Principal,
    text: str = "",
    files: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> DisputeEvidence:
    """Add to the chain (never change it): the round is the dispute's current one."""
    # Field by field on purpose: DisputeEvidence's own fields; look-alikes elsewhere build others'.
    item = DisputeEvidence(
        party=party.value,
        kind=kind.value,
        round=dispute.round,
        text=text,
        files=files or [],
        data=data or {},
        added_by=by.display_name or by.username,
        added_at=clock.now(),
    )
    dispute.evidence.append(item)
    return item
