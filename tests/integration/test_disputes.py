"""Disputes on the real database: a refused case handed to the platform, evidence from both sides,
a merchant-liable ruling paid once through the refunds path, the deadlines the sweep keeps (moved
with the frozen clock), the deposit fallback and the appeal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.disputes import service as disputes
from aftersales.disputes.domain import AppealResult, Awaiting, EvidenceKind, Liability, Outcome
from aftersales.disputes.schemas import AcceptIn, AppealDecisionIn, EscalateIn, EvidenceIn, RuleIn
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid
from aftersales.notifications import service as notifications
from aftersales.rules import service as rules

from ..factories import Factory
from .helpers import delivered_order, outbox_rows, timeline_rows


@pytest.fixture
def who(factory: Factory, db: Database, app: object) -> dict[str, Principal]:
    """The app is created so the outbox runs inline (the refund reaches the simulated gateway)."""
    rules.load_defaults(db)
    factory.catalogue()
    delivered_order(factory, db, "SO-D1", merchant="pop-a")
    factory.customer_user("lina", "C1")
    factory.merchant_user("popa", "pop-a")
    factory.user("judge", Role.ARBITRATOR)
    factory.user("boss", Role.SUPERVISOR)
    people = {}
    for name in ("lina", "popa", "judge", "boss"):
        found = identity.principal_for_username(db, name)
        assert found is not None
        people[name] = found
    return people


def _refused_case(db: Database, who: dict[str, Principal]) -> str:
    draft = CaseDraft(
        order_number="SO-D1",
        kind=CaseKind.COMPENSATION,
        reason=CaseReason.LATE_DELIVERY,
        lines=[CaseLineIn(line_no=1, quantity=1)],
        compensation_amount=Decimal("20.00"),
        description="arrived late and cracked",
    )
    case = cases.submit(db, draft, who["lina"], via="customer")
    assert case.status == "under_review"  # the default policies leave a compensation to the merchant
    refused = cases.act(db, case.number, ActionIn(action=CaseAction.REJECT, note="used, not defective"), who["popa"])
    assert refused.status == "rejected"
    return case.number


def _to_review(db: Database, who: dict[str, Principal]) -> str:
    number = _refused_case(db, who)
    dispute = disputes.escalate(db, EscalateIn(case_number=number, claim="the screen was cracked"), who["lina"])
    disputes.accept(db, dispute.number, AcceptIn(awaiting=Awaiting.BOTH), who["judge"])
    disputes.submit_evidence(db, dispute.number, EvidenceIn(kind=EvidenceKind.PHOTO, text="unboxing"), who["lina"])
    done = disputes.submit_evidence(
        db, dispute.number, EvidenceIn(kind=EvidenceKind.INSPECTION_REPORT, text="QC passed"), who["popa"]
    )
    assert done.status == "under_review"
    return dispute.number


def test_escalation_hands_the_case_to_the_platform_with_the_records_attached(
    db: Database, who: dict[str, Principal]
) -> None:
    number = _refused_case(db, who)
    case = cases.get_case(db, number, who["lina"])
    assert disputes.escalation_offered(case, who["lina"])
    assert not disputes.escalation_offered(case, who["popa"])  # merchants do not escalate against themselves

    dispute = disputes.escalate(db, EscalateIn(case_number=number, claim="cracked screen"), who["lina"])
    again = disputes.escalate(db, EscalateIn(case_number=number, claim="twice"), who["lina"])
    assert again.number == dispute.number  # the same case twice: one dispute
    assert dispute.status == "escalated" and dispute.deadline_at is not None
    assert [e.kind for e in dispute.evidence] == ["order_snapshot", "payment_record", "logistics_proof", "chat_log"]
    assert all(e.party == "system" for e in dispute.evidence)
    chat = dispute.evidence[3].data["entries"]
    assert any(e["said"] == "used, not defective" for e in chat)
    assert cases.get_case(db, number, who["lina"]).status == "appealed"
    assert [(r["from_state"], r["to_state"]) for r in timeline_rows(db, "dispute")] == [(None, "escalated")]
    assert [m["payload"]["to"] for m in outbox_rows(db, "dispute.status_changed")] == ["escalated"]


def test_escalation_window_closes_seven_days_after_the_refusal(db: Database, who: dict[str, Principal]) -> None:
    number = _refused_case(db, who)
    with clock.frozen_at(clock.now() + timedelta(days=7, minutes=1)):
        assert not disputes.escalation_offered(cases.get_case(db, number, who["lina"]), who["lina"])
        with pytest.raises(Conflict, match="more than 7 days"):
            disputes.escalate(db, EscalateIn(case_number=number, claim="late"), who["lina"])


def test_merchant_liable_ruling_pays_the_refund_once(db: Database, who: dict[str, Principal]) -> None:
    number = _to_review(db, who)
    dispute = disputes.get_dispute(db, number, who["judge"])
    ids = [e.id for e in dispute.evidence if e.party in ("buyer", "merchant")]
    with pytest.raises(Forbidden):
        disputes.rule(db, number, _ruling(ids), who["popa"])
    with pytest.raises(Invalid, match="not on this dispute"):
        disputes.rule(db, number, _ruling([999_999]), who["judge"])

    ruled = disputes.rule(db, number, _ruling(ids), who["judge"])
    assert (ruled.liability, ruled.outcome, ruled.award) == ("merchant", "full_refund", dispute.paid)
    assert ruled.funding == "escrow"
    with pytest.raises(Conflict):
        disputes.rule(db, number, _ruling(ids), who["judge"])
    requested = outbox_rows(db, "refund.requested")
    assert len(requested) == 1
    final = disputes.get_dispute(db, number, who["lina"])
    assert final.status == "enforced", final.status  # the simulated gateway confirmed the refund
    settled = [m for m in outbox_rows(db, "refund.settled") if m["payload"]["status"] == "succeeded"]
    assert len(settled) == 1 and Decimal(settled[0]["payload"]["amount"]) == dispute.paid
    assert [m["payload"]["outcome"] for m in outbox_rows(db, "dispute.ruled")] == ["full_refund"]

    # The merchant's staff hear of the ruling (the outbox delivered it), once however often it is delivered.
    def told() -> list[str]:
        return [
            m.link for m in notifications.staff_inbox(db, who["popa"].user_id).items if m.topic == "staff.dispute_ruled"
        ]

    assert told() == [f"/disputes/{number}"]
    merchant_id = outbox_rows(db, "dispute.ruled")[0]["payload"]["merchant_id"]
    assert disputes.tell_merchant(db, merchant_id, "staff.dispute_ruled", number, "again") == 1
    assert disputes.tell_merchant(db, merchant_id, "staff.dispute_ruled", number, "again") == 0
    assert len(told()) == 2


def _ruling(
    ids: list[int], outcome: Outcome = Outcome.FULL_REFUND, liability: Liability = Liability.MERCHANT
) -> RuleIn:
    return RuleIn(liability=liability, outcome=outcome, reasons="photos show transit-free damage", evidence_ids=ids)


def test_a_silent_side_loses_the_point_when_the_round_times_out(db: Database, who: dict[str, Principal]) -> None:
    number = _refused_case(db, who)
    dispute = disputes.escalate(db, EscalateIn(case_number=number, claim="cracked"), who["lina"])
    disputes.accept(db, dispute.number, AcceptIn(awaiting=Awaiting.BOTH), who["judge"])
    disputes.submit_evidence(db, dispute.number, EvidenceIn(kind=EvidenceKind.PHOTO, text="photo"), who["lina"])
    with clock.frozen_at(clock.now() + timedelta(hours=47)):
        assert disputes.sweep(db) == 0
    with clock.frozen_at(clock.now() + timedelta(hours=49)):
        assert disputes.sweep(db) == 1
        after = disputes.get_dispute(db, dispute.number, who["judge"])
    assert after.status == "under_review"
    forfeits = [(e.party, e.round) for e in after.evidence if e.kind == "forfeit"]
    assert forfeits == [("merchant", 1)]


def test_review_past_its_deadline_goes_to_a_senior_arbitrator(db: Database, who: dict[str, Principal]) -> None:
    number = _to_review(db, who)
    ids = [e.id for e in disputes.get_dispute(db, number, who["judge"]).evidence]
    with clock.frozen_at(clock.now() + timedelta(hours=49)):
        assert disputes.sweep(db) == 1
        assert disputes.get_dispute(db, number, who["judge"]).senior
        with pytest.raises(Forbidden, match="senior"):
            disputes.rule(db, number, _ruling(ids), who["judge"])
        ruled = disputes.rule(db, number, _ruling(ids, Outcome.REJECT, liability=Liability.BUYER), who["boss"])
    assert ruled.status == "ruled" and ruled.award == Decimal("0.00")


def test_compensation_falls_back_to_the_deposit_then_offline_then_a_receivable(
    db: Database, who: dict[str, Principal]
) -> None:
    number = _to_review(db, who)
    ids = [e.id for e in disputes.get_dispute(db, number, who["judge"]).evidence]
    merchant_id = who["popa"].merchant_id
    assert merchant_id is not None
    admin = Principal(user_id=1, username="root", role=Role.ADMIN)
    disputes.top_up_deposit(db, merchant_id, Decimal("100.00"), "CNY", "initial", admin)
    ruled = disputes.rule(db, number, _ruling(ids, Outcome.COMPENSATION_FRAUD), who["judge"])
    assert ruled.award == Decimal("500.00")  # 3 × 20.00 is below the ¥500 minimum
    assert (ruled.status, ruled.funding) == ("enforcing", "offline")  # the deposit holds too little
    assert outbox_rows(db, "refund.requested") == []  # compensation never goes through the order's refund
    with clock.frozen_at(clock.now() + timedelta(hours=49)):
        assert disputes.sweep(db) == 1
    done = disputes.get_dispute(db, number, who["judge"])
    assert (done.status, done.funding) == ("enforced", "receivable")
    deposit = disputes.deposit(db, merchant_id, who["popa"])
    assert deposit.balance == Decimal("0.00") and deposit.receivable == done.award - Decimal("100.00")

    appealed = disputes.appeal(db, number, "the buyer swapped the part", who["popa"])
    assert appealed.status == "appealed"
    with pytest.raises(Forbidden):
        disputes.decide_appeal(db, number, AppealDecisionIn(result=AppealResult.OVERTURNED, note="x"), who["judge"])
    decided = disputes.decide_appeal(
        db, number, AppealDecisionIn(result=AppealResult.OVERTURNED, note="serial numbers match"), who["boss"]
    )
    assert (decided.status, decided.appeal_result) == ("appeal_decided", "overturned")
    back = disputes.deposit(db, merchant_id, who["popa"])
    assert back.balance == Decimal("100.00") and back.receivable == Decimal("0.00")
    assert [m["payload"]["result"] for m in outbox_rows(db, "dispute.appeal_decided")] == ["overturned"]


def test_the_buyer_may_withdraw_before_the_ruling_only(db: Database, who: dict[str, Principal]) -> None:
    number = _refused_case(db, who)
    dispute = disputes.escalate(db, EscalateIn(case_number=number, claim="cracked"), who["lina"])
    with pytest.raises(Forbidden):
        disputes.withdraw(db, dispute.number, "never mind", who["popa"])
    gone = disputes.withdraw(db, dispute.number, "sorted it out", who["lina"])
    assert gone.status == "withdrawn" and gone.retain_until is not None
    with pytest.raises(Conflict):
        disputes.settle(db, dispute.number, "agreed", who["popa"])
    assert SYSTEM.role is Role.ADMIN


def test_a_pop_merchant_silent_past_its_deadline_accepts_the_buyers_request(
    db: Database, who: dict[str, Principal]
) -> None:
    draft = CaseDraft(
        order_number="SO-D1",
        kind=CaseKind.COMPENSATION,
        reason=CaseReason.LATE_DELIVERY,
        lines=[CaseLineIn(line_no=1, quantity=1)],
        compensation_amount=Decimal("20.00"),
    )
    case = cases.submit(db, draft, who["lina"], via="customer")
    assert case.status == "under_review"
    # The goods shipped: the merchant has 5 days (120 h) to answer.
    with clock.frozen_at(clock.now() + timedelta(hours=119)):
        assert disputes.accept_silent_cases(db) == 0
    with clock.frozen_at(clock.now() + timedelta(hours=121)):
        assert disputes.accept_silent_cases(db) == 1
        assert disputes.accept_silent_cases(db) == 0  # once
    after = cases.get_case(db, case.number, who["lina"])
    assert after.status in ("refunding", "completed") and after.approved_amount == Decimal("20.00")
    approvals = [r for r in timeline_rows(db, "case") if r["action"] == "case.approve"]
    assert [(r["actor_kind"], r["reason"]) for r in approvals] == [("system", "note.merchant_silent")]
