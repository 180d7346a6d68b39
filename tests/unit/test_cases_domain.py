"""The case transition tables: every kind × every status × every action is either a listed move
or a refusal naming the state and what is possible instead."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aftersales.cases import domain
from aftersales.cases.domain import (
    ACTORS,
    FINAL,
    RETURN_KINDS,
    TRANSITIONS,
    CaseAction,
    CaseKind,
    CaseStatus,
    LineClaim,
)
from aftersales.kit.access import Role

ALL = [(k, s, a) for k in CaseKind for s in CaseStatus for a in CaseAction]


@pytest.mark.parametrize(("kind", "status", "action"), ALL, ids=lambda v: v.value)
def test_every_state_and_action_is_a_move_or_a_clear_refusal(
    kind: CaseKind, status: CaseStatus, action: CaseAction
) -> None:
    target = domain.next_status(kind, status, action)
    if (status, action) in TRANSITIONS[kind]:
        assert target is TRANSITIONS[kind][(status, action)]
        assert action in domain.allowed_actions(kind, status)
    else:
        assert target is None
        message = domain.refusal(kind, status, action)
        assert kind.value in message and status.value in message and action.value in message


@pytest.mark.parametrize("kind", list(CaseKind), ids=lambda v: v.value)
def test_final_states_offer_nothing(kind: CaseKind) -> None:
    for status in FINAL:
        assert domain.allowed_actions(kind, status) == []


@pytest.mark.parametrize("kind", list(CaseKind), ids=lambda v: v.value)
def test_no_state_offers_an_appeal_while_nobody_rules_on_one(kind: CaseKind) -> None:
    """`appealed` would hand the case to a platform ruling that does not exist yet (disputes)."""
    for status in CaseStatus:
        assert CaseAction.APPEAL not in domain.allowed_actions(kind, status)


@pytest.mark.parametrize("kind", list(CaseKind), ids=lambda v: v.value)
def test_every_kind_can_reach_completed_from_review(kind: CaseKind) -> None:
    seen, frontier = {CaseStatus.UNDER_REVIEW}, [CaseStatus.UNDER_REVIEW]
    while frontier:
        status = frontier.pop()
        for (source, _action), target in TRANSITIONS[kind].items():
            if source is status and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert CaseStatus.COMPLETED in seen
    assert CaseStatus.REJECTED in seen and CaseStatus.CANCELLED in seen


def test_goods_come_back_only_in_return_kinds() -> None:
    for kind in CaseKind:
        moves = {action for (_s, action) in TRANSITIONS[kind]}
        assert (CaseAction.SHIP_BACK in moves) == (kind in RETURN_KINDS)


def test_roles_are_limited_per_action() -> None:
    assert Role.CUSTOMER not in ACTORS[CaseAction.APPROVE]
    assert Role.CUSTOMER in ACTORS[CaseAction.CANCEL]
    assert Role.WAREHOUSE in ACTORS[CaseAction.INSPECT_PASS]
    assert Role.MERCHANT in ACTORS[CaseAction.APPROVE]  # a POP merchant reviews its own cases first
    assert domain.allowed_actions(CaseKind.RETURN_REFUND, CaseStatus.RECEIVED, Role.CUSTOMER) == [
        CaseAction.ADD_EVIDENCE
    ]
    assert CaseAction.INSPECT_PASS in domain.allowed_actions(
        CaseKind.RETURN_REFUND, CaseStatus.RECEIVED, Role.WAREHOUSE
    )


def test_claimable_quantity_needs_delivery_for_returns_but_not_for_money() -> None:
    claim = LineClaim(ordered=3, delivered=0, already_claimed=1)
    assert claim.claimable(CaseKind.RETURN_REFUND) == 0
    assert claim.claimable(CaseKind.REFUND_ONLY) == 2
    assert LineClaim(ordered=3, delivered=3, already_claimed=5).claimable(CaseKind.EXCHANGE) == 0


def test_days_are_counted_from_the_day_after_receipt() -> None:
    received = date(2026, 11, 1)
    assert domain.days_since(received, date(2026, 11, 8)) == 7
    assert domain.days_since(received, date(2026, 11, 9)) == 8
    assert domain.days_since(None, date(2026, 11, 9)) is None


def test_amounts_per_kind() -> None:
    assert domain.case_amount(CaseKind.RETURN_REFUND, 2, Decimal("398.00"), None) == Decimal("398.00")
    assert domain.case_amount(CaseKind.PRICE_PROTECTION, 2, Decimal("199.00"), Decimal("20.00")) == Decimal("40.00")
    assert domain.case_amount(CaseKind.PRICE_PROTECTION, 1, Decimal("199.00"), Decimal("-5")) == Decimal("0")
    assert domain.case_amount(CaseKind.INVOICE, 1, Decimal("199.00"), None) == Decimal("0")
    assert domain.case_number(date(2026, 11, 22), 42) == "AS261122000042"
