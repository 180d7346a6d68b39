"""Handing a case to the platform: what the disputes context reads of a case and the one step it
takes on it (the case becomes `appealed`: the platform's dispute rules from then on)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.orm import Session

from aftersales.cases import domain
from aftersales.cases.domain import CaseAction, CaseStatus
from aftersales.cases.models import Case
from aftersales.cases.recording import record
from aftersales.cases.repository import CasesRepository
from aftersales.cases.schemas import CaseOut, DisputableCase
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Conflict, Forbidden, NotFound

# Filled by the composition root with the disputes' own rule (cases cannot import disputes, which
# sits above them): whether a case page offers "ask the platform to step in". Unbound: never offered.
_escalation_offer: Callable[[CaseOut, Principal], bool] | None = None


def provide_escalation_offer(offer: Callable[[CaseOut, Principal], bool]) -> None:
    global _escalation_offer
    _escalation_offer = offer


def escalation_offered(case: CaseOut, viewer: Principal) -> bool:
    return _escalation_offer is not None and _escalation_offer(case, viewer)


def _disputable(case: Case) -> DisputableCase:
    paid = sum((x.amount if x.amount is not None else x.unit_price * x.quantity for x in case.lines), Decimal("0.00"))
    return DisputableCase(
        case_id=case.id,
        number=case.number,
        kind=case.kind,
        status=case.status,
        order_id=case.order_id,
        order_number=case.order_number,
        customer_id=case.customer_id,
        merchant_id=case.merchant_id,
        currency=case.currency,
        paid=paid if case.lines else case.requested_amount,
        description=case.description,
        closed_at=case.closed_at,
        review_due_at=case.review_due_at,
    )


def disputable_case_in(session: Session, number: str, viewer: Principal) -> DisputableCase:
    case = CasesRepository(session).by_number(number, viewer)
    if case is None:
        raise NotFound(f"No case '{number}' that you can see.", key="error.case_not_visible", ref=number)
    return _disputable(case)


def hand_to_platform_in(session: Session, case_id: int, by: Principal, reason: str) -> None:
    """Move the case to `appealed` in the caller's transaction (the dispute is written with it)."""
    case = CasesRepository(session).by_id(case_id)
    if case is None:
        raise NotFound(f"No case #{case_id}.")
    if by.role not in domain.ACTORS[CaseAction.APPEAL]:
        raise Forbidden(f"Your role '{by.role.value}' may not hand a case to the platform.")
    status = CaseStatus(case.status)
    target = domain.PLATFORM_STEPS.get((status, CaseAction.APPEAL))
    if target is None:
        raise Conflict(f"A case that is {status.value} cannot be handed to the platform.")
    previous = case.status
    case.status, case.appealed = target.value, True
    case.updated_at = clock.now()
    case.review_check_at = None  # the platform decides now, not the case's review
    case.closed_at = case.closed_at or clock.now()
    record(session, case, "case.appeal", by, previous, case.status, reason)
