"""How a case reads for each viewer: the summary in lists and the whole case with its timeline,
evidence and refunds (customers see only what is theirs to see)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.cases import domain
from aftersales.cases.domain import AWAITING_DECISION, CaseKind, CaseStatus
from aftersales.cases.models import Case
from aftersales.cases.schemas import CaseEventOut, CaseLineOut, CaseOut, CaseSummary, EvidenceOut, RefundView
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.refunds import service as refunds
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SubjectType


def case_summary(case: Case) -> CaseSummary:
    return CaseSummary(
        number=case.number,
        kind=case.kind,
        status=case.status,
        order_number=case.order_number,
        merchant_id=case.merchant_id,
        reason=case.reason,
        requested_amount=case.requested_amount,
        currency=case.currency,
        created_at=case.created_at,
        review_due_at=case.review_due_at,
        overdue=case.status == CaseStatus.UNDER_REVIEW.value
        and case.review_due_at is not None
        and case.review_due_at <= clock.now(),
        escalated=case.review_escalated_at is not None and CaseStatus(case.status) in AWAITING_DECISION,
    )


def case_view(session: Session, case: Case, viewer: Principal) -> CaseOut:
    customer = viewer.role is Role.CUSTOMER
    entries = timeline.entries_for(session, [(SubjectType.CASE.value, case.id)], customer_view=customer)
    return CaseOut(
        **case_summary(case).model_dump(),
        version=case.version,
        description=case.description,
        approved_amount=case.approved_amount,
        resolution=case.resolution,
        allowed_resolutions=list(case.allowed_resolutions or []),
        # The policies' offers are suggestions for staff; nothing issues them to the customer.
        offers=[] if customer else list(case.offers or []),
        return_shipping_paid_by=domain.return_shipping_payer(CaseKind(case.kind), case.return_shipping_paid_by),
        return_method=case.return_method,
        return_carrier=case.return_carrier,
        return_tracking=case.return_tracking,
        pickup_at=case.pickup_at,
        pickup_reference=case.pickup_reference or "",
        return_address=orders.return_address(session, case.merchant_id)
        if CaseStatus(case.status) in domain.GOODS_COMING_BACK
        else None,
        eligibility_reason=case.eligibility_reason,
        policy_keys=list(case.policy_keys or []),
        submitted_via=case.submitted_via,
        closed_at=case.closed_at,
        lines=[CaseLineOut.model_validate(line) for line in case.lines],
        evidence=[EvidenceOut.model_validate(e) for e in case.evidence if e.customer_visible or not customer],
        timeline=[CaseEventOut.model_validate(e, from_attributes=True) for e in entries],
        refunds=[
            RefundView(
                amount=r.amount,
                currency=r.currency,
                status=r.status,
                requested_at=r.requested_at,
                settled_at=r.settled_at,
            )
            for r in refunds.refunds_for_case(session, case.id)
        ],
        next_actions=[
            a.value
            for a in domain.allowed_actions(CaseKind(case.kind), CaseStatus(case.status), viewer.role)
            if domain.offered(a, case.return_tracking, case.pickup_at)
        ],
    )
