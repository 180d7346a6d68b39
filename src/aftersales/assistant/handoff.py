"""The port through which the assistant hands a conversation to a person.

The assistant does not import the tickets context: the composition root (main.create_app) binds
the desk, which is the tickets service (`open_from_chat`, `add_chat_message`), at start-up. The
hand-off stays in the customer's transaction, so the chat shows the ticket number at once.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from aftersales.kit.access import Principal


# Same signature as tickets.service.open_from_chat on purpose: this Protocol is the assistant's port,
# so the assistant names what it needs without importing the tickets context.
class Desk(Protocol):
    """Where people answer customers: opens (or joins) the conversation's ticket."""

    def open_from_chat(
        self,
        session: Session,
        principal: Principal,
        *,
        conversation_id: int,
        transcript: list[dict[str, str]],
        intent: str | None,
        entities: dict[str, Any],
        order_number: str | None,
        summary: str,
        words: str = "",
    ) -> str:
        """The number of the ticket that now carries the conversation."""
        ...

    def add_chat_message(self, session: Session, conversation_id: int, text: str) -> None:
        """A customer's chat line after the hand-off reaches the ticket."""
        ...


class NoDesk(RuntimeError):
    """No desk is bound: the process was started without its composition root (a wiring bug)."""


_bound: list[Desk] = []


def bind(desk: Desk) -> None:
    """Called once by the composition root; binding again replaces the desk (tests)."""
    _bound[:] = [desk]


def desk() -> Desk:
    if not _bound:
        raise NoDesk("nobody is at the desk in this process")
    return _bound[0]
