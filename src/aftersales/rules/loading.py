"""Loading the shipped policy files: checked whole first, then only the missing keys inserted, so
a bad file changes nothing and an administrator's edits are never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.yaml_file import read_yaml
from aftersales.orders import service as orders
from aftersales.rules.domain import PolicyError
from aftersales.rules.models import Policy
from aftersales.rules.policy_file import PolicySpec, parse_policy_entries
from aftersales.rules.repository import PoliciesRepository

DEFAULTS_PATH = Path(__file__).parent / "policies" / "defaults.yaml"
TICKET_PRIORITY_PATH = Path(__file__).parent / "policies" / "ticket_priority.yaml"
# Coupons: lateness compensation (超时赔付) and the limits of agents' offers (the wallet context).
COMPENSATION_PATH = Path(__file__).parent / "policies" / "compensation.yaml"
# Every shipped policy file; load_defaults() without a path loads them all.
SHIPPED_FILES = (DEFAULTS_PATH, TICKET_PRIORITY_PATH, COMPENSATION_PATH)


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
            # Field by field on purpose: Policy's own fields; look-alikes elsewhere build others'.
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
