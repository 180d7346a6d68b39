"""The condition → outcome engine. Pure: facts in, a decision out, no database.

A policy is data: ``{"when": <condition>, "then": <outcome>}``.

Conditions (netbox-style, nestable):
  {"attr": "order.days_since_receipt", "op": "lte", "value": 7}
  {"all": [<condition>, ...]}   {"any": [<condition>, ...]}   {"not": <condition>}
  {}  (always true)
Operators: eq, ne, lt, lte, gt, gte, in, not_in, contains (list attribute holds the value),
contains_any, is_null, not_null.
Besides the facts (ATTRIBUTES), a condition may look at what higher-priority policies already
decided (DECISION_ATTRIBUTES), e.g. {"attr": "decision.eligible", "op": "is_null"} for "no
policy has given a verdict yet"; that is how offers follow a positive verdict and how a final
catch-all refuses only what nothing else decided.

Outcome fields (all optional; the first matching policy that sets a field decides it, except
``offers`` and ``reasons``, which accumulate):
  eligible: bool             reason_zh / reason_en: words the customer understands
  approval: "auto" | "review"                  review_hours: int
  return_shipping_paid_by: "buyer" | "merchant" | "platform"
  resolutions: [refund, exchange, repair, coupon, invoice, compensation]
  offers: [extra_coupon, extended_warranty, waived_return_shipping]
  priority: "urgent" | "high" | "medium" | "low"   (ticket_priority policies)
  cap_share_of_paid: number in (0, 1]   cap_amount: number >= 0
                             the most a compensation claim may total on one order: this share of
                             what was paid, and never more than cap_amount
  coupon_amount: number > 0  a fixed coupon value (e.g. an on-demand lateness tier)
  coupon_share_of_paid: number in (0, 1]   coupon_min / coupon_max: amounts >= 0
                             a coupon of this share of what was paid, clamped to [min, max];
                             for an agent's offer, coupon_max is the most one offer may be worth
  coupon_valid_days: int     how long the coupon stays usable (1..366)
  stop: bool (no later policy is considered)

Compensation policies (purpose compensation) look at coupon.trigger (late_delivery, agent_offer,
vip_offer) and the lateness facts the wallet context builds from the order's frozen promise; a
refusal (eligible: false) with reasons says why no coupon is due.

Ticket-priority policies (purpose ticket_priority) look at the ticket.* facts the tickets context
builds from a classified ticket, and set ``priority``; decide() then answers a PriorityDecision.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from aftersales.kit.vocabulary import SCENARIO_GROUPS, CaseKind, CaseReason, Priority, TicketType


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class Purpose(StrEnum):
    ELIGIBILITY = "eligibility"
    COMPENSATION = "compensation"
    ROUTING = "routing"
    OUTREACH = "outreach"
    TICKET_PRIORITY = "ticket_priority"


# Every attribute a condition may name, with its type, so policies are checked when loaded.
ATTRIBUTES: dict[str, type] = {
    "order.days_since_receipt": int,  # counted from the day after receipt, in the shop's time zone
    "order.days_since_payment": int,
    "order.total": Decimal,
    "order.status": str,
    "order.delivered": bool,
    "order.shipped": bool,
    "order.merchant_kind": str,  # self_operated | pop
    "order.merchant_code": str,
    "order.merchant_tags": list,
    "order.tags": list,
    "product.category": str,
    "product.sku": str,
    "product.tags": list,
    "customer.tier": str,  # regular | vip | svip
    "customer.past_returns": int,  # cases in the last 90 days
    "case.kind": str,
    "case.reason": str,
    "case.quantity": int,
    "case.amount": Decimal,
    "case.opened": bool,  # the customer says the package was opened / the item used
    "case.price_drop": Decimal,  # price protection: paid unit price minus today's price
    # Tickets (purpose ticket_priority): what classification found, plus the order's and customer's facts.
    "ticket.type": str,  # consultation | complaint | dispute
    "ticket.scenario": str,  # product.defect, experience.late_delivery, consultation, ...
    "ticket.scenario_group": str,  # product | service | experience | consultation | other
    "ticket.responsibility": str,  # merchant | logistics | platform | customer
    "ticket.tags": list,  # fine tag ids, e.g. product.defect.safety_hazard
    "ticket.threatens_escalation": bool,  # 投诉 / 12315 / media / lawyer ...
    "ticket.channel": str,
    "order.days_late": int,  # > 0 when the parcel is late against its ETA
    "customer.complaints_30d": int,  # earlier complaints by the same customer in 30 days
    # Compensation (purpose compensation): what asks for a coupon, and lateness against the promise
    # frozen when the order was confirmed (paid).
    "coupon.trigger": str,  # late_delivery | agent_offer | vip_offer
    "order.minutes_late": int,  # whole minutes the delivery came after the frozen promise
    "order.on_demand": bool,  # on-demand (同城即时) delivery, promised in minutes
    "order.preorder": bool,  # a pre-order (预售): no lateness compensation
    "order.force_majeure": bool,  # delivered inside a declared force-majeure period and region
    "order.buyer_fault": bool,  # the delay was the buyer's doing (address changed, not reachable…)
}
# What earlier policies decided, visible to later policies' conditions while decide() walks them;
# null until a policy has set the field.
DECISION_ATTRIBUTES: dict[str, type] = {
    "decision.eligible": bool,
    "decision.approval": str,
    "decision.return_shipping_paid_by": str,
    "decision.priority": str,
}
# The words conditions may compare these attributes with, so a typo is caught when loading.
KINDS = tuple(k.value for k in CaseKind)
REASONS = tuple(r.value for r in CaseReason)
TIERS = ("regular", "vip", "svip")
# Ticket words, highest priority first; the scenarios below are kept the same as the tickets
# taxonomy (tickets/taxonomy.yaml) by tests.
PRIORITIES = tuple(p.value for p in reversed(Priority))
TICKET_TYPES = tuple(t.value for t in TicketType)
RESPONSIBILITIES = ("merchant", "logistics", "platform", "customer")
SCENARIOS = (
    "product.defect",
    "product.damage",
    "product.wrong_item",
    "product.missing_item",
    "service.attitude",
    "service.broken_promise",
    "experience.late_delivery",
    "experience.packaging",
    "consultation",
    "other",
)
VOCABULARY: dict[str, tuple[str, ...]] = {
    "case.kind": KINDS,
    "case.reason": REASONS,
    "customer.tier": TIERS,
    "order.merchant_kind": ("self_operated", "pop"),
    "decision.approval": ("auto", "review"),
    "decision.return_shipping_paid_by": ("buyer", "merchant", "platform"),
    "decision.priority": PRIORITIES,
    "ticket.type": TICKET_TYPES,
    "ticket.scenario": SCENARIOS,
    "ticket.scenario_group": SCENARIO_GROUPS,
    "ticket.responsibility": RESPONSIBILITIES,
    "coupon.trigger": ("late_delivery", "agent_offer", "vip_offer"),
}
OPERATORS = frozenset(
    {"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "contains_any", "is_null", "not_null"}
)
MAX_DEPTH = 12  # nesting of all/any/not
APPROVALS = frozenset({"auto", "review"})
PAYERS = frozenset({"buyer", "merchant", "platform"})
RESOLUTIONS = frozenset({"refund", "exchange", "repair", "coupon", "invoice", "compensation"})
OFFERS = frozenset({"extra_coupon", "extended_warranty", "waived_return_shipping"})
OUTCOME_FIELDS = frozenset(
    {
        "eligible",
        "reason_zh",
        "reason_en",
        "approval",
        "review_hours",
        "return_shipping_paid_by",
        "resolutions",
        "offers",
        "priority",
        "cap_share_of_paid",
        "cap_amount",
        "coupon_amount",
        "coupon_share_of_paid",
        "coupon_min",
        "coupon_max",
        "coupon_valid_days",
        "stop",
    }
)
# Fields where the first matching policy that sets them decides.
FIRST_DECIDES = (
    "eligible",
    "approval",
    "review_hours",
    "return_shipping_paid_by",
    "resolutions",
    "priority",
    "cap_share_of_paid",
    "cap_amount",
    "coupon_amount",
    "coupon_share_of_paid",
    "coupon_min",
    "coupon_max",
    "coupon_valid_days",
)

Facts = Mapping[str, Any]


class PolicyError(ValueError):
    """A policy definition that cannot be used; the message says where and what to fix."""


@dataclass(frozen=True, slots=True)
class PolicyRule:
    key: str
    priority: int
    when: dict[str, Any]
    then: dict[str, Any]
    merchant_id: int | None = None


@dataclass(slots=True)
class Decision:
    eligible: bool = True
    reasons_zh: list[str] = field(default_factory=list)
    reasons_en: list[str] = field(default_factory=list)
    approval: str = "review"
    review_hours: int = 72
    return_shipping_paid_by: str = "buyer"
    resolutions: list[str] = field(default_factory=list)
    offers: list[str] = field(default_factory=list)
    policy_keys: list[str] = field(default_factory=list)
    priority: str | None = None  # ticket_priority policies only; None until one decides
    # The compensation cap (None: no policy set it); see compensation_cap().
    cap_share_of_paid: Decimal | None = None
    cap_amount: Decimal | None = None
    # The policy that set `approval`, so an automatic approval can say which rule approved it.
    approval_policy: str | None = None
    # A coupon's terms (purpose compensation; None: no policy set it); see coupon_value().
    coupon_amount: Decimal | None = None
    coupon_share_of_paid: Decimal | None = None
    coupon_min: Decimal | None = None
    coupon_max: Decimal | None = None
    coupon_valid_days: int | None = None
    # The policy that set the coupon's value, so a coupon can say which rule issued it.
    coupon_policy: str | None = None

    def reason(self, lang: str) -> str:
        reasons = self.reasons_zh if lang.startswith("zh") else self.reasons_en
        return " ".join(reasons)

    def refuse(self, reason_zh: str, reason_en: str) -> None:
        """Refused by a limit outside the policies (units already claimed, a kind the policies do
        not solve it with): that reason alone is given, since the policies' words read as a yes."""
        self.eligible = False
        self.reasons_zh, self.reasons_en = [reason_zh], [reason_en]


@dataclass(frozen=True, slots=True)
class OrderLineFacts:
    """The facts of a request on a real order line, and what the context that owns cases does with
    the policies' verdict (units already claimed, the kind's own solutions), so a dry run answers
    exactly what the real request would."""

    facts: dict[str, Any]
    settle: Callable[[Decision], None] | None = None


DEFAULT_PRIORITY = "medium"  # when no ticket-priority policy decides (e.g. an admin switched them all off)


@dataclass(frozen=True, slots=True)
class PriorityDecision:
    """A ticket's priority, which policies gave it, and why, in words an agent reads."""

    priority: str
    policy_keys: tuple[str, ...] = ()
    reasons_zh: tuple[str, ...] = ()
    reasons_en: tuple[str, ...] = ()

    @classmethod
    def of(cls, decision: Decision) -> PriorityDecision:
        return cls(
            priority=decision.priority or DEFAULT_PRIORITY,
            policy_keys=tuple(decision.policy_keys),
            reasons_zh=tuple(decision.reasons_zh),
            reasons_en=tuple(decision.reasons_en),
        )

    def reason(self, lang: str) -> str:
        return ("；" if lang.startswith("zh") else "; ").join(
            self.reasons_zh if lang.startswith("zh") else self.reasons_en
        )


# --- validation ----------------------------------------------------------------------------------
def validate_condition(condition: Any, where: str = "when") -> None:
    if not isinstance(condition, dict):
        raise PolicyError(f"{where}: a condition must be an object, got {type(condition).__name__}")
    if not condition:
        return
    if where.count(".") >= MAX_DEPTH:
        raise PolicyError(f"{where}: conditions nest too deeply; use at most {MAX_DEPTH} levels")
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        parts = condition[key]
        if len(condition) != 1 or not isinstance(parts, list) or not parts:
            raise PolicyError(f"{where}.{key}: give a non-empty list of conditions and nothing else")
        for i, part in enumerate(parts):
            validate_condition(part, f"{where}.{key}[{i}]")
        return
    if "not" in condition:
        if len(condition) != 1:
            raise PolicyError(f"{where}.not: 'not' stands alone")
        validate_condition(condition["not"], f"{where}.not")
        return
    attr, op = condition.get("attr"), condition.get("op")
    kinds = {**ATTRIBUTES, **DECISION_ATTRIBUTES}
    if not isinstance(attr, str) or attr not in kinds:
        raise PolicyError(f"{where}: unknown attribute {attr!r}; known: {', '.join(sorted(kinds))}")
    if not isinstance(op, str) or op not in OPERATORS:
        raise PolicyError(f"{where}: unknown operator {op!r}; use one of {', '.join(sorted(OPERATORS))}")
    extra = set(condition) - {"attr", "op", "value"}
    if extra:
        raise PolicyError(f"{where}: unexpected keys {', '.join(sorted(extra))}")
    if op in ("is_null", "not_null"):
        return
    if "value" not in condition:
        raise PolicyError(f"{where}: operator {op!r} needs a 'value'")
    _check_value(where, attr, kinds[attr], op, condition["value"])


def _check_value(where: str, attr: str, kind: type, op: str, value: Any) -> None:
    """The value must make sense for the attribute's type, so a policy cannot fail at run time."""
    if op in ("in", "not_in", "contains_any") and not isinstance(value, list):
        raise PolicyError(f"{where}: operator {op!r} needs a list value")
    if op in ("contains", "contains_any"):
        if kind is not list:
            raise PolicyError(f"{where}: {attr} is not a list; {op!r} works on list attributes only")
        if not all(isinstance(item, str) for item in (value if op == "contains_any" else [value])):
            raise PolicyError(f"{where}: {op!r} looks for texts (tags), not {value!r}")
        return
    if op in ("lt", "lte", "gt", "gte") and kind not in (int, Decimal):
        raise PolicyError(f"{where}: {attr} is not a number; {op!r} compares numbers only")
    if kind is list:
        raise PolicyError(f"{where}: {attr} is a list; use 'contains' or 'contains_any'")
    for item in value if op in ("in", "not_in") else [value]:
        if not _fits(kind, item):
            expected = {bool: "true or false", str: "a text", int: "a number", Decimal: "a number"}[kind]
            raise PolicyError(f"{where}: {attr} compares with {expected}, not {item!r}")
    words = VOCABULARY.get(attr)
    if words is not None:
        for word in value if isinstance(value, list) else [value]:
            if word not in words:
                raise PolicyError(f"{where}: {word!r} is not a value of {attr}; use one of {', '.join(words)}")


def _fits(kind: type, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return False
    try:
        Decimal(str(value))
    except InvalidOperation:
        return False
    return True


def validate_facts(facts: Any) -> dict[str, Any]:
    """Check and normalise facts given by hand (the dry run): known attributes, fitting types.

    Numbers for Decimal attributes become Decimal; a missing attribute stays unknown (null).
    """
    if not isinstance(facts, Mapping):
        raise PolicyError("facts: give an object of attribute → value")
    out: dict[str, Any] = {}
    for attr, value in facts.items():
        if attr not in ATTRIBUTES:
            raise PolicyError(f"facts: unknown attribute {attr!r}; known: {', '.join(sorted(ATTRIBUTES))}")
        kind = ATTRIBUTES[attr]
        if value is None:
            out[attr] = None
        elif kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PolicyError(f"facts.{attr}: give a list of texts, not {value!r}")
            out[attr] = list(value)
        elif kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
            raise PolicyError(f"facts.{attr}: give a whole number, not {value!r}")
        elif not _fits(kind, value):
            expected = {bool: "true or false", str: "a text", int: "a number", Decimal: "a number"}[kind]
            raise PolicyError(f"facts.{attr}: give {expected}, not {value!r}")
        else:
            out[attr] = Decimal(str(value)) if kind is Decimal else value
    return out


def validate_outcome(outcome: Any, where: str = "then") -> None:
    if not isinstance(outcome, dict) or not outcome:
        raise PolicyError(f"{where}: an outcome must be a non-empty object")
    unknown = set(outcome) - OUTCOME_FIELDS
    if unknown:
        raise PolicyError(
            f"{where}: unknown fields {', '.join(sorted(unknown))}; known: {', '.join(sorted(OUTCOME_FIELDS))}"
        )

    def word_in(name: str, words: frozenset[str], default: str) -> bool:
        value = outcome.get(name, default)
        return isinstance(value, str) and value in words

    def words_in(name: str, words: frozenset[str]) -> bool:
        value = outcome.get(name, [])
        return isinstance(value, list) and all(isinstance(v, str) and v in words for v in value)

    hours = outcome.get("review_hours", 1)
    checks: list[tuple[str, bool, str]] = [
        ("eligible", isinstance(outcome.get("eligible", True), bool), "true or false"),
        ("stop", isinstance(outcome.get("stop", False), bool), "true or false"),
        ("approval", word_in("approval", APPROVALS, "auto"), "auto or review"),
        ("return_shipping_paid_by", word_in("return_shipping_paid_by", PAYERS, "buyer"), "buyer, merchant or platform"),
        (
            "review_hours",
            isinstance(hours, int) and not isinstance(hours, bool) and 0 < hours <= 720,
            "a whole number of hours between 1 and 720",
        ),
        ("resolutions", words_in("resolutions", RESOLUTIONS), "a list of " + ", ".join(sorted(RESOLUTIONS))),
        ("offers", words_in("offers", OFFERS), "a list of " + ", ".join(sorted(OFFERS))),
        ("priority", word_in("priority", frozenset(PRIORITIES), "medium"), "urgent, high, medium or low"),
        ("cap_share_of_paid", _number_within(outcome.get("cap_share_of_paid", 1), 0, 1), "a number above 0, at most 1"),
        ("cap_amount", _number_within(outcome.get("cap_amount", 0), 0, None), "an amount of 0 or more"),
        ("coupon_amount", _number_within(outcome.get("coupon_amount", 1), 0, 10_000), "an amount above 0"),
        (
            "coupon_share_of_paid",
            _number_within(outcome.get("coupon_share_of_paid", 1), 0, 1),
            "a number above 0, at most 1",
        ),
        ("coupon_min", _number_within(outcome.get("coupon_min", 0), 0, None), "an amount of 0 or more"),
        ("coupon_max", _number_within(outcome.get("coupon_max", 0), 0, None), "an amount of 0 or more"),
        (
            "coupon_valid_days",
            _whole_within(outcome.get("coupon_valid_days", 30), 1, 366),
            "a whole number of days between 1 and 366",
        ),
        ("reason_zh", isinstance(outcome.get("reason_zh", ""), str), "a text (in YAML, quote yes, no, on, off)"),
        ("reason_en", isinstance(outcome.get("reason_en", ""), str), "a text (in YAML, quote yes, no, on, off)"),
    ]
    for name, ok, expected in checks:
        if not ok:
            raise PolicyError(f"{where}.{name}: use {expected}")
    low, high = outcome.get("coupon_min"), outcome.get("coupon_max")
    if low is not None and high is not None and _number(low) > _number(high):
        raise PolicyError(f"{where}.coupon_min: use an amount no higher than coupon_max")
    if outcome.get("eligible") is False and not (outcome.get("reason_zh") and outcome.get("reason_en")):
        raise PolicyError(f"{where}: a refusal needs reason_zh and reason_en in words the customer understands")


def _whole_within(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _number_within(value: Any, low: int, high: int | None) -> bool:
    """A number (not a boolean, not a text) above `low` (0 itself allowed only without `high`)
    and at most `high`."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    number = _number(value)
    if not number.is_finite():
        return False
    if high is None:
        return number >= low
    return low < number <= high


def compensation_cap(paid: Decimal, share: Decimal | None, ceiling: Decimal | None) -> Decimal:
    """The most compensation one order may carry in total: `share` of what was paid (all of it
    when no policy set a share), never above `ceiling`, rounded down to the cent."""
    cap = paid * (share if share is not None else Decimal(1))
    if ceiling is not None:
        cap = min(cap, ceiling)
    return max(cap, Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def coupon_value(paid: Decimal, decision: Decision) -> Decimal | None:
    """The coupon a compensation decision gives for an order that cost `paid`: its fixed amount, or
    its share of what was paid, clamped to [coupon_min, coupon_max] and rounded to the cent (half
    up, as a price is); None when the decision refused or set no value."""
    if not decision.eligible:
        return None
    if decision.coupon_amount is not None:
        value = decision.coupon_amount
    elif decision.coupon_share_of_paid is not None:
        value = paid * decision.coupon_share_of_paid
    else:
        return None
    if decision.coupon_min is not None:
        value = max(value, decision.coupon_min)
    if decision.coupon_max is not None:
        value = min(value, decision.coupon_max)
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return value if value > 0 else None


def validate_definition(definition: Any) -> dict[str, Any]:
    if not isinstance(definition, dict) or set(definition) - {"when", "then"} or "then" not in definition:
        raise PolicyError("a policy is an object with 'when' (a condition) and 'then' (an outcome)")
    validate_condition(definition.get("when", {}))
    validate_outcome(definition["then"])
    return definition


# --- evaluation ----------------------------------------------------------------------------------
def _number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _same(a: Any, b: Any) -> bool:
    """Equality where 7, 7.0 and Decimal("7.00") are the same number."""
    numeric = (int, float, Decimal)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool) and not isinstance(b, bool):
        return _number(a) == _number(b)
    return bool(a == b)


def matches(condition: Mapping[str, Any], facts: Facts) -> bool:
    if not condition:
        return True
    if "all" in condition:
        return all(matches(part, facts) for part in condition["all"])
    if "any" in condition:
        return any(matches(part, facts) for part in condition["any"])
    if "not" in condition:
        return not matches(condition["not"], facts)
    op, actual = condition["op"], facts.get(condition["attr"])
    expected: Any = condition.get("value")
    if op == "is_null":
        return actual is None
    if op == "not_null":
        return actual is not None
    if actual is None:
        return False  # an unknown fact never satisfies a comparison
    if op == "eq":
        return _same(actual, expected)
    if op == "ne":
        return not _same(actual, expected)
    if op in ("lt", "lte", "gt", "gte"):
        a, b = _number(actual), _number(expected)
        return {"lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "contains":
        return expected in actual
    if op == "contains_any":
        return any(item in actual for item in expected)
    raise PolicyError(f"unknown operator {op!r}")


def decide(rules: list[PolicyRule], facts: Facts, merchant_id: int | None = None) -> Decision:
    """Walk policies by priority; the first policy that sets a field decides it."""
    decision = Decision()
    decided: set[str] = set()
    # Conditions see the facts and, under "decision.*", what earlier policies decided.
    so_far: dict[str, Any] = {}
    seen = ChainMap(so_far, dict(facts))
    for rule in sorted(rules, key=lambda r: (r.priority, r.key)):
        if rule.merchant_id is not None and rule.merchant_id != merchant_id:
            continue
        if not matches(rule.when, seen):
            continue
        then = rule.then
        decision.policy_keys.append(rule.key)
        for name in FIRST_DECIDES:
            if name in then and name not in decided:
                value = then[name]
                if name == "resolutions":
                    value = list(value)
                elif name.startswith("cap_") or (name.startswith("coupon_") and name != "coupon_valid_days"):
                    value = _number(value)
                setattr(decision, name, value)
                decided.add(name)
                if name == "approval":
                    decision.approval_policy = rule.key
                if name in ("coupon_amount", "coupon_share_of_paid") and decision.coupon_policy is None:
                    decision.coupon_policy = rule.key
                if f"decision.{name}" in DECISION_ATTRIBUTES:
                    so_far[f"decision.{name}"] = then[name]
        if then.get("reason_zh"):
            decision.reasons_zh.append(then["reason_zh"])
        if then.get("reason_en"):
            decision.reasons_en.append(then["reason_en"])
        for offer in then.get("offers", []):
            if offer not in decision.offers:
                decision.offers.append(offer)
        if then.get("stop"):
            break
    return decision
