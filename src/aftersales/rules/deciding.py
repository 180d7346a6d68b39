"""Deciding inside the caller's transaction: the enabled policies of a purpose, walked in order by
the pure engine (rules.domain). Other contexts reach this through rules.service."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from aftersales.kit.errors import Invalid
from aftersales.rules import domain
from aftersales.rules.domain import Decision, PolicyError, PolicyRule, PriorityDecision, Purpose
from aftersales.rules.models import Policy
from aftersales.rules.repository import PoliciesRepository


# --- deciding ----------------------------------------------------------------------------------
def rule_of(policy: Policy) -> PolicyRule:
    definition = policy.definition
    return PolicyRule(
        key=policy.key,
        priority=policy.priority,
        when=definition.get("when", {}),
        then=definition["then"],
        merchant_id=policy.merchant_id,
    )


def active_rules(session: Session, purpose: str = Purpose.ELIGIBILITY.value) -> list[PolicyRule]:
    """The enabled policies of one purpose, in walk order, read inside the caller's transaction."""
    return [rule_of(p) for p in PoliciesRepository(session).enabled_for(str(purpose))]


def decide(
    session: Session, facts: domain.Facts, merchant_id: int | None, purpose: str = Purpose.ELIGIBILITY.value
) -> Decision:
    """The decision of the enabled policies on these facts, for an order of this merchant."""
    return domain.decide(active_rules(session, purpose), facts, merchant_id)


def decide_ticket_priority(session: Session, facts: dict[str, Any]) -> PriorityDecision:
    """A ticket's priority from the enabled ticket_priority policies, inside the caller's transaction.

    `facts` uses the rules vocabulary (ticket.*, order.total, product.category, customer.tier,
    customer.complaints_30d …; tickets.classification.priority_facts builds it). Priority
    policies are platform-wide, so no merchant's own policy takes part. Bad facts are Invalid.
    """
    try:
        checked = domain.validate_facts(facts)
    except PolicyError as exc:
        raise Invalid(str(exc)) from exc
    decision = domain.decide(active_rules(session, Purpose.TICKET_PRIORITY.value), checked, None)
    return PriorityDecision.of(decision)
