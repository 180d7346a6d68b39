"""One word per fact: each shared vocabulary, the actor of a change and the database helper for
work outside a request are defined once in src and imported everywhere else."""

from __future__ import annotations

import ast
from collections import defaultdict

from aftersales.kit.vocabulary import CaseKind, CaseReason, Priority, TicketType

from .event_sources import trees

DEFINED_ONCE = {
    "Priority": "kit/vocabulary.py",
    "TicketType": "kit/vocabulary.py",
    "CaseKind": "kit/vocabulary.py",
    "CaseReason": "kit/vocabulary.py",
    "actor_of": "timeline/domain.py",
    "configured_database": "db/uow.py",
}
NEVER_AGAIN = {"_db"}  # the per-module database helpers configured_database replaced
WORD_SETS = {
    "Priority": {p.value for p in Priority},
    "TicketType": {t.value for t in TicketType},
    "CaseKind": {k.value for k in CaseKind},
    "CaseReason": {r.value for r in CaseReason},
}


def _definitions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for where, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                found[node.name].append(where)
    return found


def test_each_shared_word_is_defined_once_where_it_belongs() -> None:
    found = _definitions()
    for name, home in DEFINED_ONCE.items():
        assert found[name] == [home], f"{name} is defined in {found[name]}"
    for name in NEVER_AGAIN:
        assert found.get(name, []) == [], f"{name}() is back in {found[name]}: use db.uow.configured_database"


def test_no_module_spells_a_vocabulary_out_again() -> None:
    """A tuple, list, set or Literal of the same words is a second definition that can drift."""
    copies = []
    for where, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                items = node.elts
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
                items = node.slice.elts
            else:
                continue
            words = {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            if len(words) < 3 or len(words) != len(items):
                continue
            copies += [f"{where}:{node.lineno} {name}" for name, vocab in WORD_SETS.items() if words == vocab]
    assert copies == []


def test_the_owners_re_export_their_words() -> None:
    from aftersales.cases import domain as cases
    from aftersales.tickets import domain as tickets

    assert (tickets.Priority, tickets.TicketType) == (Priority, TicketType)
    assert (cases.CaseKind, cases.CaseReason) == (CaseKind, CaseReason)
