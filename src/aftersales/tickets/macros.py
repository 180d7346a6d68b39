"""Macros on the desk: a macro fills the reply box with its text for this ticket and proposes a
status and tags; the agent reads, edits and sends. Filling writes nothing: an agent who picked the
wrong macro has sent nothing to the customer."""

from __future__ import annotations

from dataclasses import dataclass, field

from aftersales.db.uow import Database
from aftersales.kit.access import Principal
from aftersales.kit.errors import Forbidden, NotFound
from aftersales.tickets.domain import TICKET_STAFF, render_macro
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
        body = render_macro(
            macro.body_zh if lang.startswith("zh") else macro.body_en,
            {
                "customer_name": ticket.requester_name,
                "ticket_number": ticket.number,
                "order_number": ticket.order_number,
                "case_number": ticket.case_number,
                "agent_name": by.display_name or by.username,
            },
        )
        have = {t.tag for t in ticket.tags}
        return MacroFill(
            macro_id=macro.id,
            body=body,
            status=macro.set_status or "",
            tags=[tag for tag in macro.add_tags if tag not in have],
        )
