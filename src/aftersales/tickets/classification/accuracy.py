"""How often the classification on arrival matched what agents corrected it to."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Labelled(Protocol):
    responsibility: str
    scenario: str


@dataclass(frozen=True, slots=True)
class AccuracyReport:
    total: int
    responsibility_correct: int
    scenario_correct: int
    both_correct: int
    by_scenario: dict[str, tuple[int, int]]  # corrected scenario → (right, seen)
    confusions: list[tuple[str, str, int]]  # (predicted, corrected, count) of scenario mistakes, commonest first

    # Shares with understanding.evaluation only the 'right / seen' arithmetic, on purpose: two reports.
    @property
    def responsibility_accuracy(self) -> float:
        return self.responsibility_correct / self.total if self.total else 0.0

    @property
    def scenario_accuracy(self) -> float:
        return self.scenario_correct / self.total if self.total else 0.0

    @property
    def both_accuracy(self) -> float:
        return self.both_correct / self.total if self.total else 0.0


def _axis(item: Labelled | Mapping[str, Any], name: str) -> str:
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    return str(value or "")


def accuracy(pairs: Iterable[tuple[Labelled | Mapping[str, Any], Labelled | Mapping[str, Any]]]) -> AccuracyReport:
    """How often the arrival classification matched what agents corrected it to, per axis.

    Each pair is (predicted, corrected): Classifications, correction rows, or mappings with
    `responsibility` and `scenario`. A ticket nobody corrected counts when passed in as (p, p).
    """
    total = resp = scen = both = 0
    seen: Counter[str] = Counter()
    right: Counter[str] = Counter()
    mistakes: Counter[tuple[str, str]] = Counter()
    for predicted, corrected in pairs:
        total += 1
        r_ok = _axis(predicted, "responsibility") == _axis(corrected, "responsibility")
        s_ok = _axis(predicted, "scenario") == _axis(corrected, "scenario")
        resp += r_ok
        scen += s_ok
        both += r_ok and s_ok
        seen[_axis(corrected, "scenario")] += 1
        if s_ok:
            right[_axis(corrected, "scenario")] += 1
        else:
            mistakes[(_axis(predicted, "scenario"), _axis(corrected, "scenario"))] += 1
    return AccuracyReport(
        total=total,
        responsibility_correct=resp,
        scenario_correct=scen,
        both_correct=both,
        by_scenario={s: (right[s], n) for s, n in sorted(seen.items())},
        confusions=[(p, c, n) for (p, c), n in mistakes.most_common()],
    )
