"""An SLA breach reaches the supervisors: live (their board's stream hears it) and in their inbox,
once per breach event however often the event is delivered."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.kit.access import Principal
from aftersales.messaging import live
from aftersales.notifications import service as notifications
from aftersales.tickets import service as tickets
from aftersales.tickets.models import Ticket

from .test_tickets import _open, desk  # noqa: F401 - the desk fixture: agents on shift and a supervisor


def _ticket_id(db: Database, number: str) -> int:
    with db.read() as uow:
        found = uow.session.scalar(select(Ticket.id).where(Ticket.number == number))
    assert found is not None
    return found


def test_a_breach_alerts_the_supervisor_live_and_in_the_inbox(db: Database, desk: dict[str, Principal]) -> None:  # noqa: F811
    number = _open(db, desk["lina"], "快递一直没到，怎么回事")
    ticket_id = _ticket_id(db, number)
    boss = desk["boss"]
    live.configure("")
    heard: list[tuple[str, str]] = []

    async def scenario() -> None:
        with (
            live.hub().listen("desk:supervisor") as board,
            live.hub().listen(notifications.staff_channel(boss.user_id)) as mine,
        ):
            await asyncio.to_thread(tickets.on_sla_breached, db, ticket_id, "first_response", "sla.breached:41")
            heard.append(("desk:supervisor", await asyncio.wait_for(board.get(), 2)))
            heard.append(("inbox", await asyncio.wait_for(mine.get(), 2)))

    asyncio.run(scenario())
    assert heard == [("desk:supervisor", "breach"), ("inbox", "alert")]

    inbox = notifications.staff_inbox(db, boss.user_id)
    assert inbox.unread == 1
    (alert,) = inbox.items
    assert alert.link == f"/desk/tickets/{number}" and number in alert.subject
    # The agents get nothing in an inbox; only supervisors are alerted.
    assert notifications.staff_inbox(db, desk["agent1"].user_id).total == 0

    # The same event delivered again (the outbox retries) writes nothing new.
    tickets.on_sla_breached(db, ticket_id, "first_response", "sla.breached:41")
    assert notifications.staff_inbox(db, boss.user_id).total == 1
    # Another breach (the resolution clock) is another alert.
    tickets.on_sla_breached(db, ticket_id, "resolution", "sla.breached:42")
    assert notifications.staff_inbox(db, boss.user_id).total == 2
    notifications.staff_mark_read(db, boss.user_id, alert.id)
    assert notifications.staff_unread_count(db, boss.user_id) == 1
