"""The condition → outcome engine: operators, nesting, priority, accumulation, stop, validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aftersales.rules import schemas
from aftersales.rules.domain import (
    ATTRIBUTES,
    KINDS,
    REASONS,
    PolicyError,
    PolicyRule,
    decide,
    matches,
    validate_definition,
    validate_facts,
)
from aftersales.rules.policy_file import parse_policy_entries

FACTS: dict[str, Any] = {
    "order.days_since_receipt": 5,
    "order.total": Decimal("299.00"),
    "order.delivered": True,
    "order.merchant_tags": ["hassle_free_30"],
    "product.category": "apparel",
    "product.tags": ["cotton", "summer"],
    "customer.tier": "vip",
    "case.reason": "changed_mind",
    "case.price_drop": None,
}


def cond(attr: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"attr": attr, "op": op, "value": value} if op not in ("is_null", "not_null") else {"attr": attr, "op": op}


def rule(key: str, priority: int, when: dict[str, Any], merchant_id: int | None = None, **then: Any) -> PolicyRule:
    return PolicyRule(key, priority, when, then, merchant_id)


# --- operators -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("product.category", "eq", "apparel"), True),
        (cond("product.category", "eq", "books"), False),
        (cond("product.category", "ne", "books"), True),
        (cond("product.category", "ne", "apparel"), False),
        (cond("order.days_since_receipt", "lt", 5), False),
        (cond("order.days_since_receipt", "lt", 6), True),
        (cond("order.days_since_receipt", "lte", 5), True),
        (cond("order.days_since_receipt", "lte", 4), False),
        (cond("order.days_since_receipt", "gt", 4), True),
        (cond("order.days_since_receipt", "gt", 5), False),
        (cond("order.days_since_receipt", "gte", 5), True),
        (cond("order.days_since_receipt", "gte", 6), False),
        (cond("order.total", "gt", 298.99), True),
        (cond("order.total", "lte", "299"), True),
        (cond("order.total", "eq", 299), True),  # 299, 299.0 and Decimal("299.00") are one number
        (cond("customer.tier", "in", ["vip", "svip"]), True),
        (cond("customer.tier", "in", ["regular"]), False),
        (cond("customer.tier", "not_in", ["regular"]), True),
        (cond("customer.tier", "not_in", ["vip"]), False),
        (cond("product.tags", "contains", "cotton"), True),
        (cond("product.tags", "contains", "silk"), False),
        (cond("product.tags", "contains_any", ["silk", "summer"]), True),
        (cond("product.tags", "contains_any", ["silk", "wool"]), False),
        (cond("case.price_drop", "is_null"), True),
        (cond("case.price_drop", "not_null"), False),
        (cond("order.delivered", "not_null"), True),
        (cond("order.delivered", "eq", True), True),
        (cond("customer.past_returns", "lt", 3), False),  # an unknown fact satisfies no comparison
        (cond("customer.past_returns", "ne", 3), False),
        (cond("customer.past_returns", "not_in", [1]), False),
    ],
)
def test_operators(condition: dict[str, Any], expected: bool) -> None:
    validate_definition({"when": condition, "then": {"approval": "auto"}})
    assert matches(condition, FACTS) is expected


def test_all_any_not_and_the_empty_condition() -> None:
    yes, no = cond("customer.tier", "eq", "vip"), cond("customer.tier", "eq", "svip")
    assert matches({}, FACTS)
    assert matches({"all": [yes, yes]}, FACTS) and not matches({"all": [yes, no]}, FACTS)
    assert matches({"any": [no, yes]}, FACTS) and not matches({"any": [no, no]}, FACTS)
    assert matches({"not": no}, FACTS) and not matches({"not": yes}, FACTS)
    nested = {"all": [yes, {"any": [no, {"not": no}]}, {"not": {"all": [yes, no]}}]}
    assert matches(nested, FACTS)


# --- walking the policies ------------------------------------------------------------------------
def test_lower_priority_numbers_decide_first_and_the_first_setter_wins() -> None:
    rules = [
        rule("late", 20, {}, eligible=False, reason_zh="二", reason_en="two", return_shipping_paid_by="merchant"),
        rule("early", 10, {}, eligible=True, approval="auto", resolutions=["refund"]),
        rule("later", 30, {}, approval="review", review_hours=24, resolutions=["repair"]),
    ]
    decision = decide(rules, FACTS)
    assert decision.eligible is True  # "early" set it; "late" could not override
    assert decision.approval == "auto"
    assert decision.review_hours == 24  # nobody earlier set it
    assert decision.return_shipping_paid_by == "merchant"
    assert decision.resolutions == ["refund"]
    assert decision.policy_keys == ["early", "late", "later"]
    assert decision.reasons_en == ["two"]  # reasons add up from every matching policy


def test_same_priority_is_ordered_by_key() -> None:
    rules = [rule("b", 1, {}, approval="review"), rule("a", 1, {}, approval="auto")]
    assert decide(rules, FACTS).approval == "auto"


def test_offers_and_reasons_accumulate_without_duplicates() -> None:
    rules = [
        rule("one", 1, {}, offers=["extra_coupon"], reason_zh="甲", reason_en="A"),
        rule("two", 2, {}, offers=["extra_coupon", "extended_warranty"], reason_zh="乙", reason_en="B"),
        rule("miss", 3, cond("customer.tier", "eq", "svip"), offers=["waived_return_shipping"]),
    ]
    decision = decide(rules, FACTS)
    assert decision.offers == ["extra_coupon", "extended_warranty"]
    assert decision.reason("zh-CN") == "甲 乙" and decision.reason("en") == "A B"


def test_stop_ends_the_walk() -> None:
    rules = [
        rule("refuse", 1, {}, eligible=False, reason_zh="不", reason_en="no", stop=True),
        rule("offer", 2, {}, offers=["extra_coupon"]),
    ]
    decision = decide(rules, FACTS)
    assert not decision.eligible and decision.offers == [] and decision.policy_keys == ["refuse"]


def test_merchant_policies_apply_to_that_merchant_only() -> None:
    rules = [rule("mine", 1, {}, merchant_id=7, approval="auto"), rule("all", 2, {}, approval="review")]
    assert decide(rules, FACTS, merchant_id=7).approval == "auto"
    assert decide(rules, FACTS, merchant_id=8).approval == "review"
    assert decide(rules, FACTS).approval == "review"


def test_conditions_see_what_earlier_policies_decided() -> None:
    undecided = cond("decision.eligible", "is_null")
    rules = [
        rule("verdict", 1, cond("customer.tier", "eq", "vip"), eligible=True, return_shipping_paid_by="buyer"),
        rule("offer", 2, cond("decision.return_shipping_paid_by", "eq", "buyer"), offers=["waived_return_shipping"]),
        rule("catch_all", 9, undecided, eligible=False, reason_zh="不", reason_en="no"),
    ]
    decision = decide(rules, FACTS)
    assert decision.eligible and decision.offers == ["waived_return_shipping"]
    assert decision.policy_keys == ["verdict", "offer"] and decision.reasons_en == []
    refused = decide(rules, {**FACTS, "customer.tier": "regular"})
    assert not refused.eligible and refused.policy_keys == ["catch_all"] and refused.reasons_en == ["no"]


def test_no_policy_leaves_the_defaults() -> None:
    decision = decide([], FACTS)
    assert decision.eligible and decision.approval == "review" and decision.review_hours == 72
    assert decision.return_shipping_paid_by == "buyer" and decision.policy_keys == []


# --- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ([], "an object with 'when'"),
        ({"when": {}}, "an object with 'when'"),
        ({"when": {}, "then": {}, "extra": 1}, "an object with 'when'"),
        ({"when": [], "then": {"approval": "auto"}}, "when: a condition must be an object"),
        ({"then": {"approval": "auto"}, "when": {"all": []}}, "when.all: give a non-empty list"),
        (
            {"then": {"approval": "auto"}, "when": {"any": [{"attr": "x.y", "op": "eq", "value": 1}]}},
            "when.any[0]: unknown attribute 'x.y'",
        ),
        ({"then": {"approval": "auto"}, "when": {"not": {}, "all": [{}]}}, "when.all: give a non-empty list"),
        (
            {"then": {"approval": "auto"}, "when": {"not": {"attr": "case.kind", "op": "like", "value": "x"}}},
            "when.not: unknown operator 'like'",
        ),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "case.kind", "op": "eq"}},
            "when: operator 'eq' needs a 'value'",
        ),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "case.kind", "op": "eq", "value": "x", "note": 1}},
            "unexpected keys note",
        ),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "case.kind", "op": "in", "value": "repair"}},
            "needs a list value",
        ),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "case.kind", "op": "eq", "value": "retrun"}},
            "'retrun' is not a value of case.kind",
        ),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "case.reason", "op": "in", "value": ["defect", "bored"]}},
            "'bored' is not a value of case.reason",
        ),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "order.days_since_receipt", "op": "lte", "value": "seven"}},
            "compares with a number",
        ),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "case.kind", "op": "gt", "value": 1}},
            "case.kind is not a number",
        ),
        ({"then": {"approval": "auto"}, "when": {"attr": "case.opened", "op": "eq", "value": "yes"}}, "true or false"),
        ({"then": {"approval": "auto"}, "when": {"attr": "case.kind", "op": "contains", "value": "x"}}, "not a list"),
        ({"then": {"approval": "auto"}, "when": {"attr": "product.tags", "op": "eq", "value": "x"}}, "is a list"),
        (
            {"then": {"approval": "auto"}, "when": {"attr": "product.tags", "op": "contains", "value": ["x"]}},
            "looks for texts",
        ),
        ({"when": {}, "then": {"colour": "red"}}, "then: unknown fields colour"),
        ({"when": {}, "then": {"approval": "maybe"}}, "then.approval: use auto or review"),
        ({"when": {}, "then": {"review_hours": 0}}, "then.review_hours"),
        ({"when": {}, "then": {"review_hours": True}}, "then.review_hours"),
        ({"when": {}, "then": {"return_shipping_paid_by": "courier"}}, "then.return_shipping_paid_by"),
        ({"when": {}, "then": {"resolutions": ["teleport"]}}, "then.resolutions"),
        ({"when": {}, "then": {"resolutions": "refund"}}, "then.resolutions"),
        ({"when": {}, "then": {"offers": ["pony"]}}, "then.offers"),
        ({"when": {}, "then": {"stop": "yes"}}, "then.stop"),
        ({"when": {}, "then": {"cap_share_of_paid": 1.5}}, "then.cap_share_of_paid: use a number above 0"),
        ({"when": {}, "then": {"cap_share_of_paid": 0}}, "then.cap_share_of_paid"),
        ({"when": {}, "then": {"cap_share_of_paid": "half"}}, "then.cap_share_of_paid"),
        ({"when": {}, "then": {"cap_amount": -1}}, "then.cap_amount: use an amount of 0 or more"),
        ({"when": {}, "then": {"cap_amount": True}}, "then.cap_amount"),
        ({"when": {}, "then": {"eligible": False, "reason_zh": "不行"}}, "a refusal needs reason_zh and reason_en"),
    ],
)
def test_validation_names_the_place_and_the_problem(definition: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace("[", r"\[")):
        validate_definition(definition)


def test_validation_refuses_deep_nesting() -> None:
    condition: dict[str, Any] = cond("case.kind", "eq", "repair")
    for _ in range(20):
        condition = {"not": condition}
    with pytest.raises(PolicyError, match="nest too deeply"):
        validate_definition({"when": condition, "then": {"approval": "auto"}})


def test_validate_facts_normalises_numbers_and_names_bad_facts() -> None:
    facts = validate_facts({"case.amount": 12.5, "order.days_since_receipt": 3, "order.tags": [], "case.opened": None})
    assert facts["case.amount"] == Decimal("12.5") and facts["case.opened"] is None
    for bad, message in [
        ({"order.days": 1}, "unknown attribute 'order.days'"),
        ({"order.days_since_receipt": "3"}, "whole number"),
        ({"order.days_since_receipt": True}, "whole number"),
        ({"case.opened": "yes"}, "true or false"),
        ({"product.tags": "a,b"}, "list of texts"),
        ({"case.amount": "lots"}, "a number"),
        ([], "an object"),
    ]:
        with pytest.raises(PolicyError, match=message):
            validate_facts(bad)


def test_policy_file_entries_are_checked_with_their_key() -> None:
    good = {"key": "a", "name_zh": "甲", "name_en": "A", "definition": {"when": {}, "then": {"approval": "auto"}}}
    assert parse_policy_entries([good])[0].purpose == "eligibility"
    with pytest.raises(PolicyError, match=r"policy 'a': then.approval"):
        parse_policy_entries([{**good, "definition": {"when": {}, "then": {"approval": "x"}}}])
    with pytest.raises(PolicyError, match=r"policy 'a': the key is used twice"):
        parse_policy_entries([good, good])
    with pytest.raises(PolicyError, match=r"policy 'Bad Key': key: use 1–64 lower-case"):
        parse_policy_entries([{**good, "key": "Bad Key"}])
    with pytest.raises(PolicyError, match=r"policy #2: key"):
        parse_policy_entries([good, {**good, "key": 5}])
    with pytest.raises(PolicyError, match=r"policy 'a': priority"):
        parse_policy_entries([{**good, "priority": "high"}])
    with pytest.raises(PolicyError, match=r"policy 'a': unknown fields colour"):
        parse_policy_entries([{**good, "colour": "red"}])
    with pytest.raises(PolicyError, match="a list of policies"):
        parse_policy_entries({"a": good})


def test_schema_vocabulary_matches_the_engine() -> None:
    dry_run = schemas.DryRunIn.model_validate({"facts": {}, "kind": "repair", "reason": "defect"})
    assert (dry_run.kind, dry_run.reason) == ("repair", "defect")
    assert "repair" in KINDS and "defect" in REASONS
    with pytest.raises(ValueError, match="refund_only"):
        schemas.DryRunIn.model_validate({"facts": {}, "kind": "swap"})
    assert "case.kind" in ATTRIBUTES
