"""Money a case can ask for and who lets it go: compensation claims are capped by policy (also
across repeated claims on one order), a missed review deadline escalates to the supervisors and
never approves, and the review sweep handles each case on its own so one bad case blocks nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.models import Case
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Invalid
from aftersales.kit.pagination import PageRequest
from aftersales.messaging import live
from aftersales.refunds.models import Refund
from aftersales.rules import service as rules
from aftersales.worker import wiring

from ..factories import Factory
from .helpers import delivered_order, timeline_rows

PAID = Decimal("398.00")  # delivered_order: 2 × 199.00
CAP = Decimal("119.40")  # the shipped policy: 30 % of what was paid, at most 500


@pytest.fixture
def shop(factory: Factory, db: Database, settings) -> Factory:  # type: ignore[no-untyped-def]
    wiring.connect(settings, db)
    rules.load_defaults(db)
    factory.catalogue()
    delivered_order(factory, db, "SO-C1")
    delivered_order(factory, db, "SO-C2")
    factory.customer_user("lina", "C1")
    factory.user("agent", Role.AGENT_T1)
    factory.user("boss", Role.SUPERVISOR)
    return factory


@pytest.fixture
def frozen() -> Iterator[None]:
    with clock.frozen_at(clock.now()):
        yield


def _principal(db: Database, username: str) -> Principal:
    user = next(u for u in identity.list_users(db) if u.username == username)
    found = identity.principal_for_user_id(db, user.id)
    assert found is not None
    return found


def _claim(amount: str, number: str = "SO-C1") -> CaseDraft:
    return CaseDraft(
        order_number=number,
        kind=CaseKind.COMPENSATION,
        reason=CaseReason.LATE_DELIVERY,
        compensation_amount=Decimal(amount),
    )


def _refunds(db: Database) -> list[Refund]:
    with db.read() as uow:
        return list(uow.session.scalars(select(Refund)))


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- the cap ----------------------------------------------------------------------------------
def test_a_claim_above_the_cap_is_refused_with_the_most_that_can_be_claimed(shop: Factory, db: Database) -> None:
    lina = _principal(db, "lina")
    with pytest.raises(Invalid) as refused:
        cases.submit(db, _claim("1000000"), lina, via="customer")
    assert "119.40" in refused.value.message and "SO-C1" in refused.value.message
    assert cases.list_cases(db, lina, PageRequest(1, 20)).total == 0
    preview = cases.preview(db, _claim("1000000"), lina)
    assert not preview.eligible and preview.compensation_claimable == CAP


def test_repeated_claims_on_one_order_share_one_cap(shop: Factory, db: Database) -> None:
    lina, agent = _principal(db, "lina"), _principal(db, "agent")
    first = cases.submit(db, _claim("100"), lina, via="customer")
    assert first.status == "under_review"
    assert cases.preview(db, _claim("1"), lina).compensation_claimable == Decimal("19.40")
    with pytest.raises(Invalid) as refused:
        cases.submit(db, _claim("20"), lina, via="customer")
    assert "19.40" in refused.value.message
    cases.submit(db, _claim("19.40"), lina, via="customer")
    with pytest.raises(Invalid) as none_left:
        cases.submit(db, _claim("0.01"), lina, via="customer")
    assert "0.00" in none_left.value.message
    # A rejected claim gives its share back.
    cases.act(db, first.number, ActionIn(action=CaseAction.REJECT, note="no delay on record"), agent)
    assert cases.submit(db, _claim("100"), lina, via="customer").status == "under_review"


def test_an_agent_cannot_approve_more_than_the_cap(shop: Factory, db: Database) -> None:
    lina, agent = _principal(db, "lina"), _principal(db, "agent")
    # A claim of the whole cap: approving more is refused (more than requested, more than the cap).
    case = cases.submit(db, _claim(str(CAP)), lina, via="customer")
    with pytest.raises(Invalid) as refused:
        cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE, amount=Decimal("500")), agent)
    assert "119.40" in refused.value.message
    assert _refunds(db) == []
    approved = cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE, amount=Decimal("119.40")), agent)
    assert approved.approved_amount == CAP


def test_the_cap_is_policy_data_an_administrator_edits(shop: Factory, db: Database) -> None:
    admin = Principal(user_id=0, username="root", role=Role.ADMIN, display_name="root")
    policy = rules.get_policy(db, "compensation_cap")
    definition = dict(policy.definition)
    definition["then"] = {**definition["then"], "cap_share_of_paid": 1, "cap_amount": 50}
    rules.update_policy(db, "compensation_cap", definition, True, policy.priority, admin, policy.version)
    lina = _principal(db, "lina")
    assert cases.preview(db, _claim("10"), lina).compensation_claimable == Decimal("50.00")
    with pytest.raises(Invalid) as refused:
        cases.submit(db, _claim("60"), lina, via="customer")
    assert "50.00" in refused.value.message


# --- the review deadline ----------------------------------------------------------------------
def _overdue_claim(shop: Factory, db: Database, number: str, amount: str = "100") -> str:
    return cases.submit(db, _claim(amount, number), _principal(db, "lina"), via="customer").number


def test_a_missed_review_deadline_escalates_once_and_never_approves(shop: Factory, db: Database, frozen: None) -> None:
    number = _overdue_claim(shop, db, "SO-C1")
    boss = _principal(db, "boss")
    before = _sample("aftersales_case_review_escalations_total")
    clock.advance(timedelta(hours=23))
    assert cases.sweep_due_reviews(db) == 0  # the 24 h deadline has not passed yet

    async def sweep_while_listening() -> list[str]:
        with live.hub().listen("desk:supervisor") as queue:
            clock.advance(timedelta(hours=2))
            assert await asyncio.to_thread(cases.sweep_due_reviews, db) == 1
            return [await asyncio.wait_for(queue.get(), 2)]

    assert asyncio.run(sweep_while_listening()) == ["review_escalated"]
    case = cases.get_case(db, number, boss)
    assert case.status == "under_review" and case.approved_amount is None and case.escalated
    assert _refunds(db) == []
    escalations = [r for r in timeline_rows(db, "case") if r["action"] == "case.review_escalated"]
    assert len(escalations) == 1 and escalations[0]["actor_kind"] == "system"
    assert _sample("aftersales_case_review_escalations_total") == before + 1
    listed = cases.list_cases(db, boss, PageRequest(1, 20), escalated=True)
    assert [c.number for c in listed.items] == [number]
    # The next sweeps find nothing new: one escalation per case.
    clock.advance(timedelta(hours=1))
    assert cases.sweep_due_reviews(db) == 0
    assert len([r for r in timeline_rows(db, "case") if r["action"] == "case.review_escalated"]) == 1
    assert _sample("aftersales_case_review_escalations_total") == before + 1
    # A supervisor decides; the case leaves the escalated list.
    cases.act(db, number, ActionIn(action=CaseAction.REJECT, note="no delay on record"), boss)
    assert cases.list_cases(db, boss, PageRequest(1, 20), escalated=True).total == 0


def test_one_failing_case_does_not_block_the_review_sweep(shop: Factory, db: Database, frozen: None) -> None:
    bad = _overdue_claim(shop, db, "SO-C1")
    good = _overdue_claim(shop, db, "SO-C2")
    with db.write() as uow:  # a row no code path can handle (its kind is unknown)
        uow.session.execute(update(Case).where(Case.number == bad).values(kind="bogus"))
        uow.commit()
    failures = _sample("aftersales_scan_item_failures_total", scan="case_reviews")
    clock.advance(timedelta(hours=25))
    assert cases.sweep_due_reviews(db) == 1
    boss = _principal(db, "boss")
    assert cases.get_case(db, good, boss).escalated
    assert _sample("aftersales_scan_item_failures_total", scan="case_reviews") == failures + 1

    def state() -> tuple[int, object]:
        with db.read() as uow:
            row = uow.session.scalar(select(Case).where(Case.number == bad))
            assert row is not None
            return row.review_sweep_failures, row.review_check_at

    attempts, retry_at = state()
    assert attempts == 1 and retry_at == clock.now() + timedelta(minutes=1)
    # Backing off: the next sweep a minute later leaves it alone; after the delay it is tried again.
    clock.advance(timedelta(seconds=30))
    assert cases.sweep_due_reviews(db) == 0
    assert _sample("aftersales_scan_item_failures_total", scan="case_reviews") == failures + 1
    clock.advance(timedelta(hours=1))
    cases.sweep_due_reviews(db)
    assert _sample("aftersales_scan_item_failures_total", scan="case_reviews") == failures + 2
    attempts, later = state()
    assert attempts == 2 and later == clock.now() + timedelta(minutes=2)  # waits longer each time


# --- auto-approval ------------------------------------------------------------------------------
def test_auto_approval_names_the_policy_that_approved(shop: Factory, db: Database) -> None:
    lina = _principal(db, "lina")
    draft = CaseDraft(
        order_number="SO-C1",
        kind=CaseKind.RETURN_REFUND,
        reason=CaseReason.CHANGED_MIND,
        lines=[CaseLineIn(line_no=1, quantity=1)],
    )
    case = cases.submit(db, draft, lina, via="customer")
    assert case.status == "awaiting_return"
    approvals = [r for r in timeline_rows(db, "case") if r["action"] == "case.approve"]
    assert len(approvals) == 1 and "low_risk_auto_approval" in approvals[0]["reason"]


def test_a_compensation_claim_is_never_approved_by_itself(shop: Factory, db: Database, frozen: None) -> None:
    number = _overdue_claim(shop, db, "SO-C1", amount="5")
    clock.advance(timedelta(days=30))
    cases.sweep_due_reviews(db)
    case = cases.get_case(db, number, _principal(db, "boss"))
    assert case.status == "under_review" and not [e for e in case.timeline if e.action == "case.approve"]
    assert _refunds(db) == []
