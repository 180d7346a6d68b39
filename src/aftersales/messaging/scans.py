"""What every periodic scan does with an item it could not handle: log it with its id, count it
in /metrics, and put it back with a growing delay, while the scan goes on with the other items.

Each scan keeps the attempt count and the next-attempt time on its own rows (a case's
review_check_at, a clock's next_check_at, an outbox message's available_at, an email's
next_attempt_at); this module only says how long to wait and records the failure."""

from __future__ import annotations

from datetime import timedelta

import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)

ITEM_FAILURES = Counter(
    "aftersales_scan_item_failures",
    "Items a periodic scan failed to handle; each is retried later with back-off",
    ["scan"],
)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


def retry_delay(failures: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failure in a row, at most an hour."""
    if failures < 1:
        return FIRST_RETRY
    return min(FIRST_RETRY * 2 ** min(failures - 1, 12), LONGEST_RETRY)


def item_failed(
    scan: str, item_id: int | str, error: BaseException, failures: int, retry_in: timedelta | None = None
) -> None:
    """Log and count one failed item of `scan`; the caller has stored when to try it again
    (after `retry_in`, retry_delay(failures) unless the scan has its own schedule)."""
    ITEM_FAILURES.labels(scan).inc()
    wait = retry_in if retry_in is not None else retry_delay(failures)
    log.error(
        "scan.item_failed",
        scan=scan,
        item_id=item_id,
        failures=failures,
        retry_in_seconds=int(wait.total_seconds()),
        error=repr(error)[:500],
    )
