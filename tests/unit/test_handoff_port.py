"""The assistant reaches a person through the hand-off port, never by importing tickets."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from aftersales.assistant import handoff

SRC = Path(__file__).resolve().parents[2] / "src" / "aftersales"


class _Desk:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def open_from_chat(self, session: Any, principal: Any, **details: Any) -> str:
        return "T-1"

    def add_chat_message(self, session: Any, conversation_id: int, text: str) -> None:
        self.lines.append(text)


@pytest.fixture
def unbound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handoff, "_bound", [])


@pytest.mark.usefixtures("unbound")
def test_a_process_without_its_composition_root_fails_loudly_at_the_hand_off() -> None:
    with pytest.raises(handoff.NoDesk):
        handoff.desk()


@pytest.mark.usefixtures("unbound")
def test_the_bound_desk_is_the_one_the_assistant_reaches_and_binding_again_replaces_it() -> None:
    first, second = _Desk(), _Desk()
    handoff.bind(first)
    assert handoff.desk() is first
    handoff.bind(second)
    handoff.desk().add_chat_message(None, 1, "人呢")
    assert second.lines == ["人呢"] and first.lines == []


def _imported(package: str) -> set[str]:
    found = set()
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


def test_assistant_and_tickets_do_not_import_each_other_even_inside_functions() -> None:
    assert not {m for m in _imported("assistant") if m.startswith("aftersales.tickets")}
    assert not {m for m in _imported("tickets") if m.startswith("aftersales.assistant")}


def test_understanding_imports_nothing_of_ours_but_kit() -> None:
    ours = {m.split(".")[1] for m in _imported("understanding") if m.startswith("aftersales.")}
    assert ours <= {"kit", "understanding"}
