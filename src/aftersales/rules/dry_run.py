"""Dry runs: what the enabled policies would decide on explicit facts, or on the facts of a real
order line that the cases context builds (plugged in by the composition root, see
OrderFactsProvider). Reads only; nothing is recorded."""

from __future__ import annotations

from typing import Any, Protocol

from aftersales.db.uow import Database
from aftersales.kit.errors import Invalid, NotFound
from aftersales.orders import service as orders
from aftersales.rules import domain
from aftersales.rules.deciding import active_rules, rule_of
from aftersales.rules.domain import Decision, PolicyError, Purpose
from aftersales.rules.repository import PoliciesRepository
from aftersales.rules.schemas import DryRunIn, DryRunOut


# --- dry runs ----------------------------------------------------------------------------------
def dry_run(
    db: Database,
    facts: dict[str, Any],
    merchant_id: int | None,
    *,
    purpose: str = Purpose.ELIGIBILITY.value,
    include: str | None = None,
) -> Decision:
    """Decide on explicit facts; `include` names a policy to take part even when it is switched off."""
    try:
        checked = domain.validate_facts(facts)
    except PolicyError as exc:
        raise Invalid(str(exc)) from exc
    return _decide_read_only(db, checked, merchant_id, purpose, include)


def _decide_read_only(
    db: Database, facts: domain.Facts, merchant_id: int | None, purpose: str, include: str | None
) -> Decision:
    with db.read() as uow:
        rules = active_rules(uow.session, purpose)
        if include is not None and all(rule.key != include for rule in rules):
            extra = PoliciesRepository(uow.session).by_key(include)
            if extra is None:
                raise NotFound(f"No policy '{include}'.")
            rules.append(rule_of(extra))
        return domain.decide(rules, facts, merchant_id)


class OrderFactsProvider(Protocol):
    """Builds the facts of a dry run from a real order line: the context that owns that knowledge
    (cases) provides it; the composition root plugs it in with `provide_order_facts`."""

    def __call__(
        self, db: Database, order_number: str, line_no: int, kind: str, reason: str, quantity: int, opened: bool
    ) -> dict[str, Any]: ...


_order_facts_provider: OrderFactsProvider | None = None


def provide_order_facts(provider: OrderFactsProvider | None) -> None:
    """Rules know nothing of cases (cases decide with rules, not the other way round)."""
    global _order_facts_provider
    _order_facts_provider = provider


def order_facts(
    db: Database, order_number: str, line_no: int, kind: str, reason: str, quantity: int, opened: bool
) -> dict[str, Any]:
    """Facts built from a real order line by the provider the composition root plugged in."""
    if _order_facts_provider is None:
        raise Invalid(
            "A dry run against a real order needs the cases context, which is not available in this "
            "installation; give the facts as JSON instead."
        )
    return _order_facts_provider(db, order_number, line_no, kind, reason, quantity, opened)


def run_dry_run(db: Database, data: DryRunIn) -> DryRunOut:
    """The dry run behind the admin page and the API: explicit facts, or facts of an order line."""
    if data.facts is not None:
        try:
            facts = domain.validate_facts(data.facts)
        except PolicyError as exc:
            raise Invalid(str(exc)) from exc
    elif data.purpose == Purpose.TICKET_PRIORITY.value:
        raise Invalid("A ticket-priority dry run takes facts (ticket.*, order.total, customer.tier …), not an order.")
    elif data.order_number and data.line_no and data.kind and data.reason:
        facts = order_facts(db, data.order_number, data.line_no, data.kind, data.reason, data.quantity, data.opened)
    else:
        raise Invalid("Give either the facts, or an order number, line number, kind and reason.")
    code = facts.get("order.merchant_code")
    merchant_id = orders.merchant_id_for(db, code) if isinstance(code, str) and code else None
    decision = _decide_read_only(db, facts, merchant_id, data.purpose, data.policy_key)
    return DryRunOut.of(
        decision, facts, merchant_id, "facts" if data.facts is not None else "order", data.policy_key, data.purpose
    )
