"""Huey task of the SLA context: the sweep that warns and breaches clocks whose check is due.
The worker imports this module (worker/tasks.py) so the periodic task registers on its queue."""

from __future__ import annotations

from huey import crontab

from aftersales.db.uow import configured_database
from aftersales.kit import clock
from aftersales.messaging.queue import huey
from aftersales.sla import service


@huey.periodic_task(crontab(minute="*"))
def sweep_sla_clocks() -> int:
    """Every minute: reads only the clocks whose next check has come (indexed), so its cost
    follows what is due, not the open backlog. Safe with several workers (SKIP LOCKED on
    PostgreSQL; SQLite has one writer at a time)."""
    result = service.sweep(configured_database(), clock.now())
    return result.warned + result.breached
