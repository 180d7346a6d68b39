"""Whether a request can be accepted: the facts of an order line, the policies' decision, and
the quantity still claimable on each line. Read-only; submission lives in service.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aftersales.cases import domain
from aftersales.cases.domain import CaseKind, CaseReason, LineClaim
from aftersales.cases.repository import CasesRepository
from aftersales.cases.schemas import (
    CaseDraft,
    LineDecision,
    Preview,
)
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal
from aftersales.kit.errors import Invalid
from aftersales.kit.money import share_of_units
from aftersales.orders import service as orders
from aftersales.orders.schemas import LineFacts, OrderFacts
from aftersales.rules import service as rules

PAST_RETURNS_WINDOW = timedelta(days=90)


def local_today() -> date:
    return clock.now().astimezone(get_settings().zone).date()


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(get_settings().zone).date() if moment else None


# --- eligibility ---------------------------------------------------------------------------------
def build_facts(
    order: OrderFacts,
    line: LineFacts | None,
    *,
    kind: CaseKind,
    reason: CaseReason,
    quantity: int,
    opened: bool,
    amount: Decimal,
    past_returns: int,
    today: date,
) -> dict[str, Any]:
    """The facts a policy may look at (rules.domain.ATTRIBUTES)."""
    return {
        "order.days_since_receipt": domain.days_since(_local_day(order.delivered_at), today),
        "order.days_since_payment": domain.days_since(_local_day(order.paid_at), today),
        "order.total": order.payable_total,
        "order.status": order.status.value,
        "order.delivered": order.delivered_at is not None,
        "order.shipped": order.shipped,
        "order.merchant_kind": order.merchant_kind.value,
        "order.merchant_code": order.merchant_code,
        "order.merchant_tags": order.merchant_tags,
        "order.tags": order.tags,
        "product.category": line.category_code if line else None,
        "product.sku": line.sku_code if line else None,
        "product.tags": line.product_tags if line else [],
        "customer.tier": order.customer_tier,
        "customer.past_returns": past_returns,
        "case.kind": kind.value,
        "case.reason": reason.value,
        "case.quantity": quantity,
        "case.amount": amount,
        "case.opened": opened,
        "case.price_drop": (line.unit_price - line.current_price) if line else None,
    }


def eligibility_facts(
    db: Database,
    order_number: str,
    line_no: int,
    kind: CaseKind,
    reason: CaseReason,
    quantity: int = 1,
    opened: bool = False,
    viewer: Principal = SYSTEM,
) -> dict[str, Any]:
    """Facts for a dry run of the policies against a real order line (the admin page uses it)."""
    with db.read() as uow:
        order = orders.order_facts(uow.session, order_number, viewer)
        line = order_line(order, line_no)
        repo = CasesRepository(uow.session)
        past = repo.past_returns(order.customer_id, clock.now() - PAST_RETURNS_WINDOW)
        paid = share_of_units(
            line.paid,
            line.quantity,
            repo.claimed_per_line(order.order_id).get(line.line_id, 0),
            quantity,
            order.currency,
        )
        amount = domain.case_amount(kind, quantity, paid, line.unit_price - line.current_price)
        # Keyword arguments written out on purpose: look-alike calls elsewhere pass other things.
        return build_facts(
            order,
            line,
            kind=kind,
            reason=reason,
            quantity=quantity,
            opened=opened,
            amount=amount,
            past_returns=past,
            today=local_today(),
        )


def dry_run_facts(
    db: Database, order_number: str, line_no: int, kind: str, reason: str, quantity: int, opened: bool
) -> dict[str, Any]:
    """The rules' dry run against a real order line (plugged in by the composition root: rules
    never import cases)."""
    return eligibility_facts(db, order_number, line_no, CaseKind(kind), CaseReason(reason), quantity, opened)


def order_line(order: OrderFacts, line_no: int) -> LineFacts:
    for line in order.lines:
        if line.line_no == line_no:
            return line
    raise Invalid(f"Order {order.number} has no line {line_no}; its lines are {[x.line_no for x in order.lines]}.")


def evaluate(session: Session, order: OrderFacts, draft: CaseDraft) -> tuple[Preview, list[tuple[LineFacts, int]]]:
    repo = CasesRepository(session)
    claimed = repo.claimed_per_line(order.order_id)
    past = repo.past_returns(order.customer_id, clock.now() - PAST_RETURNS_WINDOW)
    today = local_today()
    picked = [(order_line(order, line_in.line_no), line_in.quantity) for line_in in draft.lines]
    decisions: list[tuple[LineFacts | None, int, Decimal, rules.Decision, str]] = []
    candidates: list[tuple[LineFacts | None, int]] = list(picked) or [(None, 0)]
    for line, quantity in candidates:
        amount = (
            draft.compensation_amount or Decimal(0)
            if draft.kind is CaseKind.COMPENSATION
            else domain.case_amount(
                draft.kind,
                quantity,
                share_of_units(line.paid, line.quantity, claimed.get(line.line_id, 0), quantity, order.currency),
                line.unit_price - line.current_price,
            )
            if line
            else Decimal(0)
        )
        facts = build_facts(
            order,
            line,
            kind=draft.kind,
            reason=draft.reason,
            quantity=quantity,
            opened=draft.opened,
            amount=amount,
            past_returns=past,
            today=today,
        )
        decision = rules.decide(session, facts, order.merchant_id)
        limit_note = ""
        if line is not None:
            claim = LineClaim(line.quantity, line.quantity if order.delivered_at else 0, claimed.get(line.line_id, 0))
            if quantity > claim.claimable(draft.kind):
                decision.eligible = False
                limit_note = f"line {line.line_no}: only {claim.claimable(draft.kind)} can still be claimed"
                decision.reasons_zh.append(f"第 {line.line_no} 行最多还可申请 {claim.claimable(draft.kind)} 件。")
                decision.reasons_en.append(
                    f"At most {claim.claimable(draft.kind)} of line {line.line_no} can still be claimed."
                )
        decisions.append((line, quantity, amount, decision, limit_note))
    merged = [d for *_, d, _ in decisions]
    resolutions = set(merged[0].resolutions)
    for d in merged[1:]:
        resolutions &= set(d.resolutions)
    preview = Preview(
        eligible=all(d.eligible for d in merged),
        reason_zh=" ".join(dict.fromkeys(r for d in merged for r in d.reasons_zh)),
        reason_en=" ".join(dict.fromkeys(r for d in merged for r in d.reasons_en)),
        approval="auto" if all(d.approval == "auto" for d in merged) else "review",
        review_hours=min(d.review_hours for d in merged),
        return_shipping_paid_by=domain.return_shipping_payer(draft.kind, merged[0].return_shipping_paid_by),
        resolutions=sorted(resolutions),
        offers=sorted({o for d in merged for o in d.offers}),
        amount=sum((amount for _, _, amount, _, _ in decisions), Decimal(0)),
        currency=order.currency,
        lines=[
            LineDecision(
                line_no=line.line_no,
                product_name=line.product_name,
                quantity=qty,
                claimable=LineClaim(
                    line.quantity, line.quantity if order.delivered_at else 0, claimed.get(line.line_id, 0)
                ).claimable(draft.kind),
                amount=amount,
                eligible=d.eligible,
                reason=note or d.reason("en"),
            )
            for line, qty, amount, d, note in decisions
            if line is not None
        ],
        policy_keys=list(dict.fromkeys(k for d in merged for k in d.policy_keys)),
        approval_policies=list(dict.fromkeys(d.approval_policy for d in merged if d.approval_policy)),
    )
    if draft.kind is CaseKind.COMPENSATION:
        _apply_compensation_cap(repo, order, preview, merged[0])
    return preview, picked


def _apply_compensation_cap(
    repo: CasesRepository, order: OrderFacts, preview: Preview, decision: rules.Decision
) -> None:
    """Compensation claims on one order together never exceed the cap the policies set (a share
    of what was paid, an absolute ceiling); a claim above what is left is not eligible."""
    cap = rules.compensation_cap(order.payable_total, decision.cap_share_of_paid, decision.cap_amount)
    left = max(cap - repo.compensation_claimed(order.order_id), Decimal("0.00"))
    preview.compensation_cap, preview.compensation_claimable = cap, left
    if preview.amount > left:
        preview.eligible = False
        zh, en = domain.compensation_over_cap(order.number, order.currency, cap, left)
        # Refused for the cap alone: the policy's "reviewed within 24 hours" would promise a review.
        preview.reason_zh, preview.reason_en = zh, en


def preview(db: Database, draft: CaseDraft, viewer: Principal) -> Preview:
    with db.read() as uow:
        order = orders.order_facts(uow.session, draft.order_number, viewer)
        return evaluate(uow.session, order, draft)[0]
