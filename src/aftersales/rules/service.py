"""Use cases of the rules context: load the shipped policies, edit them, decide, dry-run.

`decide(session, facts, merchant_id)` is what other contexts call, inside their own transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from aftersales.db import refcache
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.kit.yaml_file import read_yaml
from aftersales.orders import service as orders
from aftersales.rules import domain
from aftersales.rules.domain import (
    Decision,
    PolicyError,
    PolicyRule,
    PriorityDecision,
    Purpose,
    compensation_cap,
)
from aftersales.rules.models import Policy
from aftersales.rules.policy_file import PolicySpec, parse_policy_entries
from aftersales.rules.repository import PoliciesRepository
from aftersales.rules.schemas import DryRunIn, DryRunOut, PolicyOut
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Actor, ActorKind, Entry, SubjectType

__all__ = [
    "Decision",
    "PolicyError",
    "PolicyRule",
    "PriorityDecision",
    "active_rules",
    "compensation_cap",
    "decide",
    "decide_ticket_priority",
    "dry_run",
    "load_defaults",
]

DEFAULTS_PATH = Path(__file__).parent / "policies" / "defaults.yaml"
TICKET_PRIORITY_PATH = Path(__file__).parent / "policies" / "ticket_priority.yaml"
# Every shipped policy file; load_defaults() without a path loads them all.
SHIPPED_FILES = (DEFAULTS_PATH, TICKET_PRIORITY_PATH)
MAX_DEFINITION_CHARS = 20_000


# --- loading the shipped policies ----------------------------------------------------------------
def read_policy_file(path: Path) -> list[PolicySpec]:
    """Parse and check a YAML policy file; PolicyError names the policy and the problem."""
    specs = parse_policy_entries(read_yaml(path, "the policy file", PolicyError))
    for spec in specs:
        try:
            json.dumps(spec.definition)
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"policy {spec.key!r}: the definition holds a value JSON cannot store ({exc})") from exc
    return specs


def load_defaults(db: Database, path: Path | None = None) -> int:
    """Insert the policies of the file whose keys are missing; returns how many were inserted.

    Every entry is checked first, so a bad file changes nothing. Policies already in the
    database are left exactly as an administrator edited them.
    """
    specs = read_policy_file(path) if path is not None else _shipped_specs()
    merchant_ids: dict[str, int] = {}
    for spec in specs:
        if spec.merchant_code and spec.merchant_code not in merchant_ids:
            merchant_id = orders.merchant_id_for(db, spec.merchant_code)
            if merchant_id is None:
                raise PolicyError(
                    f"policy {spec.key!r}: merchant {spec.merchant_code!r} does not exist; "
                    "create the merchant first or leave merchant_code out"
                )
            merchant_ids[spec.merchant_code] = merchant_id
    try:
        return _insert_missing(db, specs, merchant_ids)
    except IntegrityError:
        # Another process loaded the same keys at the same moment; the second pass skips them.
        return _insert_missing(db, specs, merchant_ids)


def _shipped_specs() -> list[PolicySpec]:
    specs: list[PolicySpec] = []
    seen: dict[str, Path] = {}
    for path in SHIPPED_FILES:
        for spec in read_policy_file(path):
            if spec.key in seen:
                raise PolicyError(f"policy {spec.key!r}: the key is used in {seen[spec.key].name} and {path.name}")
            seen[spec.key] = path
            specs.append(spec)
    return specs


def _insert_missing(db: Database, specs: list[PolicySpec], merchant_ids: dict[str, int]) -> int:
    with db.write() as uow:
        repo = PoliciesRepository(uow.session)
        existing = repo.keys()
        now = clock.now()
        added = 0
        for spec in specs:
            if spec.key in existing:
                continue
            repo.add(
                Policy(
                    key=spec.key,
                    purpose=spec.purpose,
                    name_zh=spec.name_zh,
                    name_en=spec.name_en,
                    priority=spec.priority,
                    enabled=spec.enabled,
                    merchant_id=merchant_ids.get(spec.merchant_code) if spec.merchant_code else None,
                    definition=spec.definition,
                    updated_at=now,
                    updated_by="system",
                )
            )
            added += 1
        uow.commit()
        return added


# --- deciding ----------------------------------------------------------------------------------
def _rule(policy: Policy) -> PolicyRule:
    definition = policy.definition
    return PolicyRule(
        key=policy.key,
        priority=policy.priority,
        when=definition.get("when", {}),
        then=definition["then"],
        merchant_id=policy.merchant_id,
    )


def active_rules(session: Session, purpose: str = Purpose.ELIGIBILITY.value) -> list[PolicyRule]:
    """The enabled policies of one purpose, in walk order, as of the caller's transaction (from the
    process's cache while no policy changed: aftersales.db.refcache)."""
    return list(refcache.cached(session, "rules", f"enabled:{purpose}", lambda s: _enabled(s, str(purpose))))


def _enabled(session: Session, purpose: str) -> tuple[PolicyRule, ...]:
    return tuple(_rule(p) for p in PoliciesRepository(session).enabled_for(purpose))


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


# --- reading and editing -----------------------------------------------------------------------
def _merchant_codes(db: Database) -> dict[int, str]:
    return {m.id: m.code for m in orders.list_merchants(db)}


def _out(policy: Policy, codes: dict[int, str]) -> PolicyOut:
    out = PolicyOut.model_validate(policy)
    out.merchant_code = codes.get(policy.merchant_id) if policy.merchant_id is not None else None
    return out


def list_policies(db: Database) -> list[PolicyOut]:
    codes = _merchant_codes(db)
    with db.read() as uow:
        return [_out(p, codes) for p in PoliciesRepository(uow.session).all()]


def policy_names(db: Database, lang: str) -> dict[str, str]:
    """Each policy's name in the reader's language, by key (notes store the key)."""
    with db.read() as uow:
        return {p.key: p.name_zh if lang == "zh-CN" else p.name_en for p in PoliciesRepository(uow.session).all()}


def get_policy(db: Database, key: str) -> PolicyOut:
    codes = _merchant_codes(db)
    with db.read() as uow:
        policy = PoliciesRepository(uow.session).by_key(key)
        if policy is None:
            raise NotFound(f"No policy '{key}'.")
        return _out(policy, codes)


def parse_definition(definition: str | dict[str, Any]) -> dict[str, Any]:
    """A definition from a form (JSON text) or the API (an object), checked; Invalid says what is wrong."""
    try:
        if isinstance(definition, str):
            if len(definition) > MAX_DEFINITION_CHARS:
                raise Invalid(f"The definition is too long; keep it under {MAX_DEFINITION_CHARS} characters.")
            try:
                definition = json.loads(definition)
            except json.JSONDecodeError as exc:
                raise Invalid(
                    f"The definition is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
                ) from exc
        checked = domain.validate_definition(definition)
        json.dumps(checked)
    except PolicyError as exc:
        raise Invalid(f"The policy cannot be used: {exc}") from exc
    except RecursionError as exc:
        raise Invalid("The definition nests too deeply.") from exc
    except (TypeError, ValueError) as exc:
        raise Invalid(f"The definition holds a value that cannot be stored: {exc}") from exc
    return checked


def update_policy(
    db: Database,
    key: str,
    definition: str | dict[str, Any],
    enabled: bool,
    priority: int,
    by: Principal,
    version: int | None = None,
) -> PolicyOut:
    """An administrator's edit. `version` is the one the editor started from; a newer one is a 409."""
    if not by.has(Role.ADMIN):
        raise Forbidden("Only administrators may change policies.")
    checked = parse_definition(definition)
    if not 0 <= priority <= 100_000:
        raise Invalid("The priority must be a whole number from 0 to 100000 (lower runs first).")
    codes = _merchant_codes(db)
    with db.write() as uow:
        policy = PoliciesRepository(uow.session).by_key(key)
        if policy is None:
            raise NotFound(f"No policy '{key}'.")
        if version is not None and policy.version != version:
            raise Conflict(
                f"Policy '{key}' was changed by {policy.updated_by} while you were editing it "
                f"(you edited version {version}, it is now version {policy.version}). "
                "Reload it and make your change again."
            )
        policy.definition = checked
        policy.enabled = enabled
        policy.priority = priority
        policy.updated_at = clock.now()
        policy.updated_by = (by.display_name or by.username)[:120]
        timeline.record(
            uow.session,
            Entry(
                subject_type=SubjectType.POLICY,
                subject_id=policy.id,
                action="policy.updated",
                actor=Actor(ActorKind.USER, by.display_name or by.username, by.user_id),
                occurred_at=clock.now(),
                from_state=f"v{policy.version}",
                to_state=f"v{policy.version + 1}",
                reason=f"{key}: enabled={enabled}, priority={priority}",
                customer_visible=False,
            ),
        )
        try:
            uow.commit()
        except StaleDataError as exc:
            raise Conflict(
                f"Policy '{key}' was changed by someone else at the same time. Reload it and try again."
            ) from exc
        return _out(policy, codes)


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
            rules.append(_rule(extra))
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


# The audit log names policies by their keys, never by row id.
timeline.name_subjects(SubjectType.POLICY, lambda session, ids: PoliciesRepository(session).keys_by_id(ids))
