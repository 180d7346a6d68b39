"""Huey task of the proactive context: the scan. The worker imports this module (worker/tasks.py)
so the periodic task registers on its queue."""

from __future__ import annotations

from huey import crontab

from aftersales.db.uow import configured_database
from aftersales.kit import clock
from aftersales.messaging.queue import huey
from aftersales.proactive import service


@huey.periodic_task(crontab(minute="*/5"))
def scan_for_trouble() -> int:
    """Every five minutes: reads the changes since the last run and only the orders whose next
    check has come (indexed), so its cost follows what is due, not the open orders. Safe with
    several workers (SKIP LOCKED on PostgreSQL; SQLite has one writer at a time)."""
    return len(service.scan(configured_database(), clock.now()).incidents)
