"""Living the demo shop's past at its own moments: every case step and ticket message happens
with the clock set to when it happened, and what follows from it (refunds, the case moving on,
the customer's notice) is delivered then too, so every time on every page tells one story."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.messaging import outbox
from aftersales.notifications import handlers as notification_handlers
from aftersales.notifications import service as notifications
from aftersales.refunds import gateway
from aftersales.refunds import service as refunds
from aftersales.worker import wiring

# Notices about what happened before this long ago were read by their customers back then.
READ_AFTER = timedelta(hours=48)


class Past:
    """The refunds the simulated gateway accepted while seeding, each settled at its own moment
    (the gateway's answer comes a few minutes after the refund was sent)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.accepted: list[str] = []
        self.decline_next = False
        self.moment = clock.now()  # when the latest step happened

    def _accept(self, gateway_ref: str, _delay: float) -> None:
        self.accepted.append(gateway_ref)

    @contextmanager
    def at(self, moment: datetime, *, settle_refunds: bool = True) -> Iterator[None]:
        """Run the block at `moment`, then deliver its consequences a few minutes later."""
        with clock.frozen_at(moment):
            yield
            self.moment = moment
            clock.advance(timedelta(minutes=1))
            drain(self.db)
            if settle_refunds and self.accepted:
                clock.advance(timedelta(minutes=4))
                for ref in self.accepted:
                    refunds.settle(self.db, ref, not self.decline_next)
                self.accepted.clear()
                self.decline_next = False
                drain(self.db)
            self.accepted.clear()  # left unsettled: the gateway still works on it


@contextmanager
def living_the_past(db: Database) -> Iterator[Past]:
    """The event handlers of every context, with the gateway's confirmations decided by the seed
    and no email tried while the past is replayed (the periodic sender takes what is left)."""
    wiring.register_handlers()
    wiring.bind_ports()  # what contexts lend each other (a refusal's notice names the escalation window)
    past = Past(db)
    with ExitStack() as stack:
        stack.enter_context(notification_handlers.emails_held())
        # A gateway that never loses an answer: whether a refund went through is the story's to say.
        gateway.use_gateway(db, gateway.SimulatedGateway(db, failure_rate=0.0, scheduler=past._accept))
        stack.callback(gateway.use_gateway, db, None)
        yield past


def drain(db: Database) -> int:
    total = 0
    while delivered := outbox.drain(db, batch=500):
        total += delivered
    return total


def settle_past(db: Database, now: datetime) -> int:
    """Deliver what is left (the orders' own events, dated by when they happened) and mark the
    notices older than READ_AFTER read, their emails sent: a customer sees only recent news unread."""
    with living_the_past(db):
        drain(db)  # on the wall clock: the orders' events were written on it
    return notifications.settle_history(db, now - READ_AFTER)
