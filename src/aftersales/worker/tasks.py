"""Huey tasks. `aftersales worker` runs a consumer over this module's `huey`."""

from __future__ import annotations

import time

import structlog
from huey import crontab

from aftersales.db.uow import configured_database
from aftersales.messaging import outbox
from aftersales.messaging.queue import huey

log = structlog.get_logger(__name__)


BATCH = 200
MAX_SECONDS_PER_RUN = 20.0


def _drain_until_empty() -> int:
    """Deliver in batches until the due backlog is empty or the run has taken long enough
    (the next kick or the periodic run continues)."""
    db, total, started = configured_database(), 0, time.monotonic()
    while time.monotonic() - started < MAX_SECONDS_PER_RUN:
        delivered = outbox.drain(db, batch=BATCH)
        total += delivered
        if delivered < BATCH:
            break
    if total:
        log.info("outbox.delivered", count=total)
    return total


@huey.task()
def drain_outbox() -> int:
    return _drain_until_empty()


@huey.periodic_task(crontab(minute="*"))
def drain_outbox_periodically() -> int:
    """Safety net: a message whose kick was lost (queue down, process killed) leaves within a minute."""
    return _drain_until_empty()


@huey.periodic_task(crontab(minute="*/5"))
def sweep_due_case_reviews() -> int:
    """Cases nobody reviewed by their deadline are escalated to the supervisors (never approved),
    each on its own; reads only what is due (indexed)."""
    from aftersales.cases import service as cases

    return cases.sweep_due_reviews(configured_database())


@huey.periodic_task(crontab(minute="*"))
def sweep_dispute_deadlines() -> int:
    """POP merchants silent past their answer deadline accept the buyer's request; disputes whose
    deadline came (acceptance, evidence round, review, offline refund, appeal window) are moved on,
    each on its own; reads only what is due (indexed)."""
    from aftersales.disputes import service as disputes

    db = configured_database()
    return disputes.accept_silent_cases(db) + disputes.sweep(db)


# Tasks of other contexts live with them; importing registers them on the same queue.
import aftersales.notifications.tasks  # noqa: E402
import aftersales.refunds.tasks  # noqa: E402
import aftersales.sla.tasks  # noqa: E402
import aftersales.surveys.tasks  # noqa: E402, F401
