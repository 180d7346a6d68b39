"""How a case reads for each viewer: the summary in lists and the whole case with its timeline,
evidence and refunds (customers see only what is theirs to see)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy.orm import Session

from aftersales.cases import domain
from aftersales.cases.domain import AWAITING_DECISION, CaseKind, CaseStatus
from aftersales.cases.models import Case
from aftersales.cases.schemas import CaseEventOut, CaseLineOut, CaseOut, CaseSummary, EvidenceOut, RefundView
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Invalid
from aftersales.orders import service as orders
from aftersales.refunds import service as refunds
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SubjectType


# Field by field on purpose: CaseSummary's own fields; look-alikes elsewhere build others'.
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
    # Field by field on purpose: CaseOut's own fields; look-alikes elsewhere build others'.
    return CaseOut(
        **case_summary(case).model_dump(),
        version=case.version,
        description=case.description,
        approved_amount=case.approved_amount,
        resolution=case.resolution,
        allowed_resolutions=list(case.allowed_resolutions or []),
        # The policies' offers are suggestions for staff (the extra coupon is given from the wallet by them).
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
        lines=[
            CaseLineOut.model_validate(line).model_copy(
                update={"shipping_share": domain.shipping_share(line.unit_price, line.quantity, line.amount)}
            )
            for line in case.lines
        ],
        evidence=[EvidenceOut.model_validate(e) for e in case.evidence if e.customer_visible or not customer],
        timeline=[CaseEventOut.model_validate(e, from_attributes=True) for e in entries],
        # Field by field on purpose: RefundView's own fields; look-alikes elsewhere build others'.
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


# What to fix on the after-sales form, per field, in both languages (never a validator's words).
# A word table like domain.SOLUTION_WORDS on purpose: each holds its own words in both languages.
FORM_PROBLEMS: dict[str, tuple[str, str]] = {
    "kind": ("Choose what you would like: a return, an exchange, a repair…", "请选择售后类型（退货、换货、维修等）。"),
    "reason": ("Choose the reason for your request.", "请选择申请原因。"),
    "lines": ("Choose the items and how many of each (a whole number).", "请选择商品，并填写每件的数量（整数）。"),
    "description": ("Describe the problem in at most 2,000 characters.", "问题描述最多 2000 字。"),
    "evidence": ("Photo links must be web addresses starting with http.", "图片链接须为以 http 开头的网址。"),
    "return_method": ("Choose how the goods go back: pickup or mail.", "请选择退货方式：上门取件或自行寄回。"),
    "compensation_amount": ("Enter the amount as a number, e.g. 25.50.", "金额请填写数字，例如 25.50。"),
    "order_number": ("This order cannot be found; open the form from the order.", "找不到该订单，请从订单页进入。"),
}


def form_problem(fields: Iterable[str]) -> Invalid:
    """One sentence per field to fix, in English and in Chinese (shown in the reader's language)."""
    chosen = [FORM_PROBLEMS.get(f, FORM_PROBLEMS["lines"]) for f in dict.fromkeys(fields)] or [FORM_PROBLEMS["lines"]]
    return Invalid(" ".join(en for en, _zh in chosen), reason_zh="".join(zh for _en, zh in chosen))


def fields_of(error: ValidationError) -> list[str]:
    """The form fields a validation error is about; a rule across fields is about the lines, or the
    amount when a compensation has none."""
    fields = []
    for problem in error.errors():
        loc = problem.get("loc") or ()
        if loc:
            fields.append(str(loc[0]))
        else:
            fields.append("compensation_amount" if "compensation" in str(problem.get("msg", "")) else "lines")
    return fields
