"""One word per fact: each shared vocabulary, the actor of a change and the database helper for
work outside a request are defined once in src and imported everywhere else."""

from __future__ import annotations

import ast
from collections import defaultdict

from aftersales.kit.vocabulary import SCENARIO_GROUPS, CaseKind, CaseReason, Priority, TicketType

from .event_sources import all_event_types, trees

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
    "SCENARIO_GROUPS": set(SCENARIO_GROUPS),
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
    # The one tuple that defines the scenario groups is their home, not a copy.
    assert [c for c in copies if not c.startswith("kit/vocabulary.py:")] == []


def test_the_owners_re_export_their_words() -> None:
    from aftersales.cases import domain as cases
    from aftersales.tickets import domain as tickets

    assert (tickets.Priority, tickets.TicketType) == (Priority, TicketType)
    assert (cases.CaseKind, cases.CaseReason) == (CaseKind, CaseReason)


def test_a_person_is_written_down_only_by_actor_of() -> None:
    """Actor(ActorKind.USER, …) built anywhere but timeline.domain would be a second way to say who."""
    inline = []
    for where, tree in trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Actor"
                and node.args
                and isinstance(node.args[0], ast.Attribute)
                and node.args[0].attr == "USER"
                and isinstance(node.args[0].value, ast.Name)
                and node.args[0].value.id == "ActorKind"
                and where != "timeline/domain.py"
            ):
                inline.append(f"{where}:{node.lineno}")
    assert inline == [], "use timeline.domain.actor_of (admin_change=True for an administrator's edit)"


def test_the_topics_notifications_renders_are_the_publishers_topics() -> None:
    from aftersales.notifications.domain import Topic

    published = all_event_types()
    assert {t.value for t in Topic} <= set(published), "a topic notifications renders has no publisher"
