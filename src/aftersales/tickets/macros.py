"""Macros on the desk: a macro fills the reply box with its text for this ticket and proposes a
status and tags; the agent reads, edits and sends. Filling writes nothing: an agent who picked the
wrong macro has sent nothing to the customer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Forbidden, Invalid, NotFound
from aftersales.tickets.domain import (
    TICKET_STAFF,
    customer_facing_name,
    macro_offered,
    render_macro,
    unknown_variables,
)
from aftersales.tickets.models import Macro, Ticket
from aftersales.tickets.repository import TicketsRepository


@dataclass(frozen=True)
class MacroFill:
    """What a macro proposes for one ticket; nothing of it is applied until the reply is sent."""

    macro_id: int
    body: str
    status: str = ""  # "" keeps the ticket's status
    tags: list[str] = field(default_factory=list)


def fill(db: Database, number: str, macro_id: int, by: Principal, lang: str) -> MacroFill:
    """The macro's text with this ticket's values (customer, ticket, order, case, agent)."""
    if by.role not in TICKET_STAFF:
        raise Forbidden("Only service staff can use macros.")
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        ticket = repo.by_number(number, by)
        if ticket is None:
            raise NotFound(f"No ticket '{number}' that you can see.")
        macro = repo.macro(macro_id)
        if macro is None or not macro.active:
            raise NotFound(f"No macro {macro_id}.")
        values = _values(ticket, by)
        template = macro.body_zh if lang.startswith("zh") else macro.body_en
        if not macro_offered(macro.key, template, values):
            raise Invalid("This macro does not fit this ticket: it needs a value the ticket does not have.")
        body = render_macro(template, values)
        have = {t.tag for t in ticket.tags}
        return MacroFill(
            macro_id=macro.id,
            body=body,
            status=macro.set_status or "",
            tags=[tag for tag in macro.add_tags if tag not in have],
        )


def _values(ticket: Ticket, by: Principal) -> dict[str, str]:
    return {
        "customer_name": ticket.requester_name,
        "ticket_number": ticket.number,
        "order_number": ticket.order_number,
        "case_number": ticket.case_number,
        "agent_name": customer_facing_name(by.display_name or by.username),
    }


def offered(db: Database, number: str, by: Principal) -> list[dict[str, Any]]:
    """The macros that fit this ticket: every variable has a value, and none asks for what the
    ticket already has."""
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        ticket = repo.by_number(number, by)
        if ticket is None:
            return []
        values = _values(ticket, by)
        return [
            {"id": m.id, "key": m.key, "title_zh": m.title_zh, "title_en": m.title_en}
            for m in repo.macros()
            if macro_offered(m.key, f"{m.body_zh}\n{m.body_en}", values)
        ]


def listed(db: Database) -> list[dict[str, Any]]:
    with db.read() as uow:
        return [
            {"id": m.id, "key": m.key, "title_zh": m.title_zh, "title_en": m.title_en}
            for m in TicketsRepository(uow.session).macros()
        ]


MACROS_PATH = Path(__file__).parent / "macros.yaml"


def load_default_macros(db: Database, path: Path = MACROS_PATH) -> int:
    """Insert the shipped macros that are missing; never overwrite an administrator's edits."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    added = 0
    with db.write() as uow:
        repo = TicketsRepository(uow.session)
        have = repo.macro_keys()
        for entry in entries:
            if entry["key"] in have:
                continue
            body = f"{entry['body_zh']}\n{entry['body_en']}"
            if unknown := unknown_variables(body):
                raise Invalid(f"Macro {entry['key']}: unknown variables {', '.join(unknown)}.")
            repo.add(
                Macro(
                    key=entry["key"],
                    title_zh=entry["title_zh"],
                    title_en=entry["title_en"],
                    body_zh=entry["body_zh"],
                    body_en=entry["body_en"],
                    set_status=entry.get("status", ""),
                    set_priority=entry.get("priority", ""),
                    add_tags=list(entry.get("add_tags", [])),
                    updated_at=clock.now(),
                )
            )
            added += 1
        uow.commit()
    return added
