"""Huey tasks. `aftersales worker` runs a consumer over this module's `huey`."""

from __future__ import annotations

import structlog
from huey import crontab

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.messaging import outbox
from aftersales.worker.queue import huey

log = structlog.get_logger(__name__)


def _db() -> Database:
    return Database(get_settings().database_url)


@huey.task()
def drain_outbox() -> int:
    delivered = outbox.drain(_db())
    if delivered:
        log.info("outbox.delivered", count=delivered)
    return delivered


@huey.periodic_task(crontab(minute="*"))
def drain_outbox_periodically() -> int:
    """Safety net: a message whose kick was lost (queue down, process killed) leaves within a minute."""
    return outbox.drain(_db())
