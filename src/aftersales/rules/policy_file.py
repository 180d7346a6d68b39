"""Policy files (defaults.yaml and the like) checked entry by entry. Pure: no database, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aftersales.rules.domain import PolicyError, Purpose, validate_definition

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.]{0,63}$")
ENTRY_FIELDS = frozenset({"key", "purpose", "name_zh", "name_en", "priority", "enabled", "merchant_code", "definition"})


# Same fields as schemas.PolicyOut on purpose: a file entry is checked here without pydantic and has
# no id, version or author yet.
@dataclass(frozen=True, slots=True)
class PolicySpec:
    """One entry of a policy file, checked: what gets inserted into the policies table."""

    key: str
    purpose: str
    name_zh: str
    name_en: str
    priority: int
    enabled: bool
    definition: dict[str, Any]
    merchant_code: str | None = None


def parse_policy_entries(entries: Any) -> list[PolicySpec]:
    """Check every entry of a policy file; the error names the entry and what to fix."""
    if not isinstance(entries, list):
        raise PolicyError("a policy file is a list of policies")
    specs: list[PolicySpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        key = entry.get("key") if isinstance(entry, dict) else None
        label = f"policy {key!r}" if isinstance(key, str) else f"policy #{i + 1}"
        try:
            spec = _parse_entry(entry)
        except PolicyError as exc:
            raise PolicyError(f"{label}: {exc}") from exc
        if spec.key in seen:
            raise PolicyError(f"{label}: the key is used twice; keys must be unique")
        seen.add(spec.key)
        specs.append(spec)
    return specs


def _parse_entry(entry: Any) -> PolicySpec:
    if not isinstance(entry, dict):
        raise PolicyError("an entry is an object with key, purpose, name_zh, name_en, priority, enabled, definition")
    unknown = set(entry) - ENTRY_FIELDS
    if unknown:
        raise PolicyError(f"unknown fields {', '.join(sorted(unknown))}; known: {', '.join(sorted(ENTRY_FIELDS))}")
    key = entry.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise PolicyError("key: use 1–64 lower-case letters, digits, '_' or '.'")
    purpose = entry.get("purpose", Purpose.ELIGIBILITY.value)
    if purpose not in {p.value for p in Purpose}:
        raise PolicyError(f"purpose: use one of {', '.join(p.value for p in Purpose)}")
    for name in ("name_zh", "name_en"):
        value = entry.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise PolicyError(f"{name}: give a name of 1–200 characters")
    priority = entry.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 100_000:
        raise PolicyError("priority: give a whole number from 0 to 100000 (lower runs first)")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PolicyError("enabled: use true or false")
    merchant = entry.get("merchant_code")
    if merchant is not None and (not isinstance(merchant, str) or not merchant.strip()):
        raise PolicyError("merchant_code: give a merchant's code, or leave it out for every merchant")
    definition = validate_definition(entry.get("definition"))
    return PolicySpec(key, purpose, entry["name_zh"], entry["name_en"], priority, enabled, definition, merchant)
