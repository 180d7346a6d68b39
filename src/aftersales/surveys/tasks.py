"""Huey task of the surveys context: the sweep that sends surveys whose time has come and expires
those left unanswered. The worker imports this module (worker/tasks.py) so it registers."""

from __future__ import annotations

from huey import crontab

from aftersales.db.uow import configured_database
from aftersales.kit import clock
from aftersales.messaging.queue import huey
from aftersales.surveys import service


@huey.periodic_task(crontab(minute="*/5"))
def sweep_surveys() -> int:
    """Every 5 minutes: reads only surveys whose send time or expiry has come (indexed)."""
    return service.sweep(configured_database(), clock.now())
