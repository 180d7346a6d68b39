"""The record every case change leaves: a timeline entry, and an outbox event when the status moved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from aftersales.cases import domain
from aftersales.cases.domain import CaseStatus
from aftersales.cases.events import CaseStatusChanged
from aftersales.cases.models import Case
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.messaging.outbox import publish_event
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of


def record(
    session: Session,
    case: Case,
    action: str,
    by: Principal,
    before: str | None,
    after: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
) -> None:
    # Same Entry as tickets.workflow.record on purpose: each context records its own subject.
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.CASE,
            subject_id=case.id,
            action=action,
            actor=actor_of(by),
            occurred_at=clock.now(),
            from_state=before,
            to_state=after,
            reason=reason,
            evidence=evidence or {},
        ),
    )
    if before != after:
        refund, share = "", ""
        if after == CaseStatus.REFUNDING.value:  # the notice says why a refund is above the goods' price
            amount = case.approved_amount if case.approved_amount is not None else case.requested_amount
            refund = str(amount)
            share = domain.refund_shipping_share(amount, [(x.unit_price, x.quantity, x.amount) for x in case.lines])
        publish_event(
            session,
            # Field by field on purpose: CaseStatusChanged's own fields; look-alikes elsewhere build others'.
            CaseStatusChanged(
                case_id=case.id,
                case_number=case.number,
                customer_id=case.customer_id,
                merchant_id=case.merchant_id,
                order_number=case.order_number,
                kind=case.kind,
                from_status=before,
                to_status=after,
                occurred_at=clock.now().isoformat(),
                amount=refund,
                shipping_share=share,
                currency=case.currency if refund else "",
            ),
            idempotency_key=f"case:{case.id}:{action}:{before}:{after}:{case.version}",
        )
