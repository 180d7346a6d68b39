"""docs/cases.md shows the transition tables as they are in the code."""

from __future__ import annotations

from pathlib import Path

from aftersales.cases.domain import TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cases.md"


def test_every_transition_is_in_the_state_diagrams() -> None:
    text = DOC.read_text(encoding="utf-8")
    for kind, table in TRANSITIONS.items():
        for (status, action), target in table.items():
            assert f"    {status.value} --> {target.value}: {action.value}" in text, (kind, status, action)
    drawn = sum(1 for line in text.splitlines() if "-->" in line and ":" in line)
    assert drawn == sum(len(table) for table in TRANSITIONS.values())
