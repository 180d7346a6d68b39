"""Where the code defines and publishes its domain events, read from the source (not a test file:
test_event_publishers.py and test_events_consumed.py share it)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from aftersales.kit.events import DomainEvent, event_types

SRC = Path(__file__).resolve().parents[2] / "src" / "aftersales"


def events_modules() -> list[Path]:
    return sorted(SRC.glob("*/events.py"))


def all_event_types() -> dict[str, type[DomainEvent]]:
    """Every event class, after importing every context's events.py."""
    for path in events_modules():
        importlib.import_module(f"aftersales.{path.parent.name}.events")
    return event_types()


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def trees() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(SRC)), ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(SRC.rglob("*.py"))
    ]


def publishers() -> dict[str, set[str]]:
    """Topic → the modules that build its event (building one is publishing it: nothing else does)."""
    by_name = {cls.__name__: topic for topic, cls in all_event_types().items()}
    found: dict[str, set[str]] = {topic: set() for topic in by_name.values()}
    for where, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) in by_name:
                found[by_name[_called_name(node)]].add(where)
    return found


def raw_outbox_publishes() -> list[str]:
    """Calls of the untyped outbox.publish(session, topic, payload, key) outside messaging/."""
    calls = []
    for where, tree in trees():
        if where.startswith("messaging/"):
            continue
        imported_raw = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "aftersales.messaging.outbox"
            and any(alias.name == "publish" for alias in node.names)
            for node in ast.walk(tree)
        )
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "publish"
                and isinstance(func.value, ast.Name)
                and func.value.id == "outbox"
            ) or (imported_raw and isinstance(func, ast.Name) and func.id == "publish"):
                calls.append(f"{where}:{node.lineno}")
    return calls
