"""A dispute as its reader sees it: the chain, the timeline, the deadline and what they may do."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from aftersales.disputes import domain
from aftersales.disputes.domain import APPEALABLE, DisputeAction, DisputeStatus, Party
from aftersales.disputes.models import Dispute
from aftersales.disputes.schemas import DisputeEventOut, DisputeOut, DisputeSummary, EvidenceOut
from aftersales.disputes.settings import deadlines
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SubjectType


def summary(dispute: Dispute) -> DisputeSummary:
    now = clock.now()
    # Field by field on purpose: DisputeSummary's own fields; look-alikes elsewhere build others'.
    return DisputeSummary(
        number=dispute.number,
        case_number=dispute.case_number,
        order_number=dispute.order_number,
        status=dispute.status,
        awaiting=dispute.awaiting,
        round=dispute.round,
        currency=dispute.currency,
        paid=dispute.paid,
        deadline_at=dispute.deadline_at,
        overdue=dispute.deadline_at is not None and clock.ensure_utc(dispute.deadline_at) <= now,
        senior=dispute.senior_at is not None,
        created_at=dispute.created_at,
    )


def next_actions(dispute: Dispute, viewer: Principal) -> list[str]:
    status = DisputeStatus(dispute.status)
    actions = domain.allowed_actions(status, viewer.role)
    if status is DisputeStatus.AWAITING_EVIDENCE and DisputeAction.SUBMIT_EVIDENCE in actions:
        party = domain.party_of(viewer.role)
        if party is not Party.PLATFORM and not domain.owes(dispute.awaiting, party):
            actions.remove(DisputeAction.SUBMIT_EVIDENCE)
    if status is DisputeStatus.ENFORCING and viewer.role is Role.CUSTOMER:
        actions = []
    if status in APPEALABLE and dispute.liability != domain.Liability.MERCHANT.value:
        actions = [a for a in actions if a is not DisputeAction.APPEAL]
    # The system's own steps (enforcing, closing, ending a round) are never a button.
    hidden = {DisputeAction.ENFORCE, DisputeAction.CLOSE}
    if status is DisputeStatus.ENFORCING:
        # Done by hand only for the merchant's offline refund (with proof) or a return received.
        offline = dispute.funding == domain.Funding.OFFLINE.value and viewer.role is Role.MERCHANT
        returned = dispute.funding == domain.Funding.AWAITING_RETURN.value and viewer.role is not Role.CUSTOMER
        if not (offline or returned):
            hidden.add(DisputeAction.ENFORCED)
    return [a.value for a in actions if a not in hidden]


def dispute_view(session: Session, dispute: Dispute, viewer: Principal) -> DisputeOut:
    entries = timeline.entries_for(session, [(SubjectType.DISPUTE.value, dispute.id)], customer_view=False)
    party = domain.party_of(viewer.role)
    appeal_due = (
        clock.ensure_utc(dispute.ruled_at) + timedelta(hours=deadlines().appeal_window) if dispute.ruled_at else None
    )
    # Field by field on purpose: DisputeOut's own fields; look-alikes elsewhere build others'.
    return DisputeOut(
        **summary(dispute).model_dump(),
        version=dispute.version,
        claim=dispute.claim,
        order_total=dispute.order_total,
        liability=dispute.liability,
        outcome=dispute.outcome,
        award=dispute.award,
        reasons=dispute.reasons,
        ruling_evidence=list(dispute.ruling_evidence or []),
        ruled_by=dispute.ruled_by,
        ruled_at=dispute.ruled_at,
        funding=dispute.funding,
        appeal_result=dispute.appeal_result,
        appeal_due_at=appeal_due,
        closed_at=dispute.closed_at,
        retain_until=dispute.retain_until,
        evidence=[EvidenceOut.model_validate(e) for e in dispute.evidence],
        # Field by field on purpose: DisputeEventOut's own fields; look-alikes elsewhere build others'.
        timeline=[
            DisputeEventOut(
                action=e.action,
                from_state=e.from_state,
                to_state=e.to_state,
                actor_kind=e.actor_kind,
                actor_name=e.actor_name,
                reason=e.reason,
                occurred_at=e.occurred_at,
            )
            for e in entries
        ],
        next_actions=next_actions(dispute, viewer),
        owes_evidence=(
            dispute.status == DisputeStatus.AWAITING_EVIDENCE.value
            and party is not Party.PLATFORM
            and domain.owes(dispute.awaiting, party)
        ),
    )
