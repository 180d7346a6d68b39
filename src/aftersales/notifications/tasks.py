"""Huey tasks of the notifications context: the periodic sender of queued emails.

Emails are first tried right after the event is handled (notifications.handlers); this task sends
what is left over: emails whose first try failed, whose retry is due, or whose sender died."""

from __future__ import annotations

import time

import structlog
from huey import crontab

from aftersales.db.uow import Database, configured_database
from aftersales.messaging.queue import huey
from aftersales.notifications import service
from aftersales.notifications.schemas import SendReport
from aftersales.notifications.settings import notification_settings

log = structlog.get_logger(__name__)

BATCH = 50
MAX_SECONDS_PER_RUN = 40.0


def send_until_done(db: Database | None = None) -> SendReport:
    """Send due emails in batches until none is due, the relay is away, or the run took long enough
    (the next minute's run goes on)."""
    db = db or configured_database()
    settings = notification_settings()
    total, started = SendReport(), time.monotonic()
    while time.monotonic() - started < MAX_SECONDS_PER_RUN:
        report = service.send_due_emails(db, settings, limit=BATCH)
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        if report.tried < BATCH or report.sent == 0:
            break
    if total.tried:
        log.info("notifications.emails_sent", sent=total.sent, retrying=total.retrying, failed=total.failed)
    return total


@huey.periodic_task(crontab(minute="*"))
def send_due_emails_periodically() -> int:
    """Every minute: safe when several workers run it at once (emails are claimed with a lease)."""
    return send_until_done().sent


@huey.periodic_task(crontab(minute="*"))
def release_waiting_outreach() -> int:
    """Every minute: deferred (quiet hours) and digest-held messages whose time has come go out,
    each decided again first. Safe when several workers run it at once (SKIP LOCKED)."""
    return service.release_waiting(configured_database()).sent


@huey.periodic_task(crontab(minute="*"))
def send_due_sms_periodically() -> int:
    """Every minute, when an SMS gateway is configured: queued SMS that are due (claimed with a lease)."""
    return service.send_due_sms(configured_database()).sent
