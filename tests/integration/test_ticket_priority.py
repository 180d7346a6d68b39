"""Ticket priority through the rules engine, on a real database with the shipped policies loaded:
the policies decide from what classification found and the order's and customer's facts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aftersales.db.uow import Database
from aftersales.kit.errors import Invalid
from aftersales.rules import service
from aftersales.rules.domain import PriorityDecision
from aftersales.rules.schemas import DryRunIn
from aftersales.tickets.classification import TicketFacts, classify, priority_facts

from .helpers import ADMIN

REGULAR_COMPLAINT: dict[str, Any] = {
    "ticket.type": "complaint",
    "ticket.scenario": "experience.late_delivery",
    "ticket.scenario_group": "experience",
    "ticket.responsibility": "logistics",
    "ticket.tags": ["experience.late_delivery.not_arrived"],
    "ticket.threatens_escalation": False,
    "ticket.channel": "web",
    "product.category": "apparel",
    "order.total": Decimal("199.00"),
    "order.days_late": 2,
    "customer.tier": "regular",
    "customer.complaints_30d": 0,
}


@pytest.fixture
def loaded(db: Database) -> Database:
    assert service.load_defaults(db) >= 28
    return db


def decide(db: Database, **changes: Any) -> PriorityDecision:
    facts = {**REGULAR_COMPLAINT, **{k.replace("__", "."): v for k, v in changes.items()}}
    with db.read() as uow:
        return service.decide_ticket_priority(uow.session, facts)


def test_shipped_priority_policies_are_loaded_with_the_defaults(loaded: Database) -> None:
    keys = {p.key for p in service.list_policies(loaded) if p.purpose == "ticket_priority"}
    assert {"ticket_high_baby_quality", "ticket_low_consultation", "ticket_medium_otherwise"} <= keys
    assert service.load_defaults(loaded) == 0  # a second load adds nothing


def test_a_regular_complaint_is_medium(loaded: Database) -> None:
    d = decide(loaded)
    assert d.priority == "medium" and d.policy_keys == ("ticket_medium_otherwise",)
    # Reasons say why, not how fast: the tickets context adds the SLA policy's own targets.
    assert "24" not in d.reason("zh") and "hours" not in d.reason("en")


BABY_QUALITY = {
    "product__category": "baby_maternal",
    "ticket__scenario": "product.defect",
    "ticket__scenario_group": "product",
}


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        (BABY_QUALITY, "ticket_high_baby_quality"),
        ({"order__total": Decimal("2000")}, "ticket_high_large_order"),
        ({"customer__complaints_30d": 2}, "ticket_high_repeat_complaints"),
        ({"customer__tier": "vip"}, "ticket_high_vip"),
        ({"customer__tier": "svip"}, "ticket_high_vip"),
        ({"ticket__threatens_escalation": True}, "ticket_high_escalation_threat"),
    ],
)  # fmt: skip
def test_high_priority_cases(loaded: Database, changes: dict[str, Any], key: str) -> None:
    d = decide(loaded, **changes)
    assert d.priority == "high" and key in d.policy_keys
    assert d.reasons_zh and d.reasons_en and len(d.reasons_zh) == len(d.reasons_en)


@pytest.mark.parametrize(
    "changes",
    [
        {"order__total": Decimal("1999.99")},
        {"customer__complaints_30d": 1},
        {"product__category": "baby_maternal"},  # a late baby parcel is not a product-quality problem
    ],
)
def test_just_below_the_lines_stays_medium(loaded: Database, changes: dict[str, Any]) -> None:
    assert decide(loaded, **changes).priority == "medium"


def test_every_reason_for_a_high_ticket_is_given(loaded: Database) -> None:
    d = decide(loaded, customer__tier="vip", order__total=Decimal("5000"), customer__complaints_30d=3)
    assert d.priority == "high"
    assert {"ticket_high_large_order", "ticket_high_repeat_complaints", "ticket_high_vip"} <= set(d.policy_keys)
    assert "ticket_medium_otherwise" not in d.policy_keys


@pytest.mark.parametrize(
    "changes",
    [
        {"order__total": Decimal("2899.00")},
        {**BABY_QUALITY, "ticket__scenario": "product.damage"},
    ],
)
def test_a_threat_on_a_high_value_or_baby_quality_ticket_is_urgent(loaded: Database, changes: dict[str, Any]) -> None:
    d = decide(loaded, ticket__threatens_escalation=True, **changes)
    assert d.priority == "urgent" and d.policy_keys[0] == "ticket_urgent_threat_high_value"
    assert decide(loaded, **changes).priority == "high"  # the same ticket without the threat


def test_consultations_are_low_but_vip_questions_medium(loaded: Database) -> None:
    question = {
        "ticket__type": "consultation",
        "ticket__scenario": "consultation",
        "ticket__scenario_group": "consultation",
    }
    low = decide(loaded, **question)
    assert low.priority == "low" and low.policy_keys == ("ticket_low_consultation",)
    assert "knowledge" in low.reason("en") and "知识库" in low.reason("zh")
    assert decide(loaded, **question, order__total=Decimal("9999")).priority == "low"
    assert decide(loaded, **question, customer__tier="vip").priority == "medium"


def test_switched_off_policies_do_not_decide(loaded: Database) -> None:
    policy = service.get_policy(loaded, "ticket_high_vip")
    service.update_policy(loaded, policy.key, policy.definition, False, policy.priority, ADMIN, policy.version)
    assert decide(loaded, customer__tier="vip").priority == "medium"


def test_without_policies_a_ticket_is_medium(db: Database) -> None:
    d = decide(db)
    assert d.priority == "medium" and d.policy_keys == ()


def test_bad_facts_are_refused_with_a_sentence(loaded: Database) -> None:
    with pytest.raises(Invalid, match=r"ticket\.colour"):
        decide(loaded, ticket__colour="red")
    with pytest.raises(Invalid, match=r"customer\.complaints_30d: give a whole number"):
        decide(loaded, customer__complaints_30d="many")


def test_from_text_to_priority(loaded: Database) -> None:
    facts = TicketFacts(
        order_number="SO-9",
        category="baby_maternal",
        merchant_kind="pop",
        order_amount=Decimal("258.00"),
        delivered=True,
    )
    found = classify("奶粉有结块，宝宝喝了拉肚子，再不处理我就打12315", facts)
    with loaded.read() as uow:
        d = service.decide_ticket_priority(uow.session, priority_facts(found, facts))
    assert found.threatens_escalation and found.scenario == "product.defect"
    assert d.priority == "urgent"
    question = classify("请问这个奶粉适合几个月的宝宝", TicketFacts())
    with loaded.read() as uow:
        assert service.decide_ticket_priority(uow.session, priority_facts(question, TicketFacts())).priority == "low"


def test_dry_run_for_the_priority_purpose(loaded: Database) -> None:
    out = service.run_dry_run(
        loaded, DryRunIn(facts={**REGULAR_COMPLAINT, "customer.tier": "vip"}, purpose="ticket_priority")
    )
    assert out.priority == "high" and out.purpose == "ticket_priority" and "ticket_high_vip" in out.policy_keys
    eligibility = service.run_dry_run(loaded, DryRunIn(facts={"case.kind": "invoice"}))
    assert eligibility.priority is None and eligibility.eligible
    with pytest.raises(ValueError, match="needs 'facts'"):
        DryRunIn(order_number="SO-1", line_no=1, kind="exchange", reason="defect", purpose="ticket_priority")
