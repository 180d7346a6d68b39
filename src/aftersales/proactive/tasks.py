"""Huey task of the proactive context: the scan. The worker imports this module (worker/tasks.py)
so the periodic task registers on its queue."""

from __future__ import annotations

import structlog
from huey import crontab

from aftersales.db.uow import configured_database
from aftersales.kit import clock
from aftersales.messaging.queue import huey
from aftersales.proactive import service

log = structlog.get_logger(__name__)


@huey.periodic_task(crontab(minute="*/5"))
def scan_for_trouble() -> int:
    """Every five minutes: reads the changes since the last run and only the orders whose next
    check has come (indexed), so its cost follows what is due, not the open orders. Safe with
    several workers (SKIP LOCKED on PostgreSQL; SQLite has one writer at a time)."""
    result = service.scan(configured_database(), clock.now())
    if result.incidents:
        log.info("proactive.scanned", checked=result.checked, incidents=len(result.incidents), notified=result.notified)
    return len(result.incidents)
