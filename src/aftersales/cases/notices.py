"""What a customer's notice says of a case that the event behind it does not carry: a refund
settled by the payment gateway names the amount, not how much of it is the goods' share of the
order's shipping fee; the case's lines know it (bound into notifications as a port)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales.cases import domain
from aftersales.cases.repository import CasesRepository
from aftersales.db.uow import Database


def refund_notice_facts(db: Database, params: dict[str, Any]) -> dict[str, str]:
    """The shipping share of a case's settled refund ({"shipping_share": "4.00"}), or nothing when
    the event is not a case's refund, already says it, or the refund carries no shipping."""
    case_id = params.get("case_id")
    if "refund_id" not in params or params.get("shipping_share") or not isinstance(case_id, int):
        return {}
    try:
        amount = Decimal(str(params.get("amount")))
    except (InvalidOperation, ValueError):
        return {}
    if not amount.is_finite() or amount <= 0:
        return {}
    with db.read() as uow:
        case = CasesRepository(uow.session).by_id(case_id)
        if case is None:
            return {}
        share = domain.refund_shipping_share(amount, [(x.unit_price, x.quantity, x.amount) for x in case.lines])
    return {"shipping_share": share} if share else {}
