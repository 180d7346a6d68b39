"""Use cases of the rules context, and its public face: other contexts import this module only.

Reading and editing policies live here; loading the shipped files (loading.py), deciding inside the
caller's transaction (deciding.py) and dry runs (dry_run.py) have rooms of their own and are
re-exported below. `decide(session, facts, merchant_id)` is what other contexts call.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.orders import service as orders
from aftersales.rules import domain
from aftersales.rules.deciding import active_rules, decide, decide_ticket_priority
from aftersales.rules.domain import (
    Decision,
    OrderLineFacts,
    PolicyError,
    PolicyRule,
    PriorityDecision,
    Purpose,
    compensation_cap,
    coupon_value,
)
from aftersales.rules.dry_run import OrderFactsProvider, dry_run, order_facts, provide_order_facts, run_dry_run
from aftersales.rules.loading import (
    COMPENSATION_PATH,
    DEFAULTS_PATH,
    SHIPPED_FILES,
    TICKET_PRIORITY_PATH,
    load_defaults,
    read_policy_file,
)
from aftersales.rules.models import Policy
from aftersales.rules.repository import PoliciesRepository
from aftersales.rules.schemas import PolicyOut
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of

__all__ = [
    "COMPENSATION_PATH",
    "DEFAULTS_PATH",
    "SHIPPED_FILES",
    "TICKET_PRIORITY_PATH",
    "Decision",
    "OrderFactsProvider",
    "OrderLineFacts",
    "PolicyError",
    "PolicyRule",
    "PriorityDecision",
    "Purpose",
    "active_rules",
    "compensation_cap",
    "coupon_value",
    "decide",
    "decide_ticket_priority",
    "dry_run",
    "load_defaults",
    "order_facts",
    "provide_order_facts",
    "read_policy_file",
    "run_dry_run",
]

MAX_DEFINITION_CHARS = 20_000


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
        # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
        timeline.record(
            uow.session,
            Entry(
                subject_type=SubjectType.POLICY,
                subject_id=policy.id,
                action="policy.updated",
                actor=actor_of(by, admin_change=True),
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


# The audit log names policies by their keys, never by row id.
timeline.name_subjects(SubjectType.POLICY, lambda session, ids: PoliciesRepository(session).keys_by_id(ids))
