"""SLA rules: the policy matrix's vocabulary, clock statuses and their transitions, and the pure
computation of a clock's deadlines from its business-time budget.

A clock measures one metric of one subject (a ticket's first response, its resolution). It runs
in business time on a calendar; it pauses while the ticket waits on the customer. Its deadlines
(warn_at, target_at) are stored, and next_check_at holds the one moment the sweep must look at it
again, so the sweep reads only what is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aftersales.kit.vocabulary import Priority, TicketType
from aftersales.sla.calendar import BusinessCalendar, add_business_time

SUBJECT_TICKET = "ticket"
ALWAYS_OPEN_KEY = "24x7"  # clocks of policies that count wall-clock time use this built-in key
# The calendar of the human service desk (defaults.yaml's policy_defaults.calendar): the hours the
# help center tells customers, so what it says is what the deadlines count.
DESK_CALENDAR_KEY = "platform"


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class Metric(StrEnum):
    # A "first plan" of a dispute or a high-priority ticket is its first response.
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # waiting on the customer: no time counts
    BREACHED = "breached"  # still counting, past its target
    MET = "met"  # stopped by the response or the resolution (on time or late: see breached_at)
    STOPPED = "stopped"  # the ticket closed without the metric being met (merged, cancelled)


class EventKind(StrEnum):
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    WARNED = "warned"
    BREACHED = "breached"
    MET = "met"
    RETARGETED = "retargeted"
    STOPPED = "stopped"


OPEN_STATUSES = frozenset({ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.BREACHED})
COUNTING_STATUSES = frozenset({ClockStatus.RUNNING, ClockStatus.BREACHED})

# What may follow what; the service refuses anything else.
TRANSITIONS: dict[ClockStatus, frozenset[ClockStatus]] = {
    ClockStatus.RUNNING: frozenset({ClockStatus.PAUSED, ClockStatus.BREACHED, ClockStatus.MET, ClockStatus.STOPPED}),
    ClockStatus.BREACHED: frozenset({ClockStatus.PAUSED, ClockStatus.MET, ClockStatus.STOPPED}),
    ClockStatus.PAUSED: frozenset({ClockStatus.RUNNING, ClockStatus.BREACHED, ClockStatus.MET, ClockStatus.STOPPED}),
    ClockStatus.MET: frozenset(),
    ClockStatus.STOPPED: frozenset(),
}

MAX_TARGET_MINUTES = 60 * 24 * 60  # sixty days of business time is already a long promise
DEFAULT_WARN_PERCENT = 80


class SlaRuleError(ValueError):
    """An SLA setting that cannot be used; the message says what to change."""


def can_move(current: ClockStatus, to: ClockStatus) -> bool:
    return to in TRANSITIONS[current]


def check_type_and_priority(ticket_type: str, priority: str) -> tuple[TicketType, Priority]:
    try:
        kind = TicketType(ticket_type)
    except ValueError as exc:
        raise SlaRuleError(
            f"unknown ticket type {ticket_type!r}; use one of: {', '.join(t.value for t in TicketType)}"
        ) from exc
    try:
        level = Priority(priority)
    except ValueError as exc:
        raise SlaRuleError(
            f"unknown priority {priority!r}; use one of: {', '.join(p.value for p in Priority)}"
        ) from exc
    return kind, level


@dataclass(frozen=True, slots=True)
class Target:
    """One cell of the policy matrix for one metric."""

    ticket_type: TicketType
    priority: Priority
    metric: Metric
    minutes: int
    warn_percent: int = DEFAULT_WARN_PERCENT
    business_hours: bool = True
    calendar_key: str = "platform"

    def __post_init__(self) -> None:
        check_target(self.minutes, self.warn_percent)

    @property
    def seconds(self) -> int:
        return self.minutes * 60

    @property
    def warn_seconds(self) -> int:
        # Whole seconds: the warning is a nudge, not a promise to the customer.
        return self.seconds * self.warn_percent // 100


def check_target(minutes: int, warn_percent: int) -> None:
    if not 1 <= minutes <= MAX_TARGET_MINUTES:
        raise SlaRuleError(f"a target must be 1 to {MAX_TARGET_MINUTES} minutes of business time, not {minutes}")
    if not 5 <= warn_percent <= 99:
        raise SlaRuleError(f"the warning must come at 5% to 99% of the target, not {warn_percent}%")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A counting clock's deadlines and the next moment the sweep must look at it."""

    target_at: datetime
    warn_at: datetime | None
    next_check_at: datetime | None


def schedule(
    calendar: BusinessCalendar,
    segment_start: datetime,
    target_seconds: int,
    warn_seconds: int,
    used_seconds: int,
    *,
    warned: bool,
    breached: bool,
) -> Schedule:
    """Deadlines of a clock counting from `segment_start`, with `used_seconds` already spent in
    earlier segments (before pauses). A budget already spent lands the deadline at the segment's
    start, so the next sweep acts on it at once."""
    remaining = max(target_seconds - used_seconds, 0)
    target_at = add_business_time(calendar, segment_start, timedelta(seconds=remaining))
    warn_at: datetime | None = None
    if not warned and not breached and warn_seconds < target_seconds:
        warn_at = add_business_time(calendar, segment_start, timedelta(seconds=max(warn_seconds - used_seconds, 0)))
    if breached:
        return Schedule(target_at, warn_at, None)
    return Schedule(target_at, warn_at, warn_at if warn_at is not None else target_at)


@dataclass(frozen=True, slots=True)
class SweepDecision:
    warn: bool
    breach: bool
    next_check_at: datetime | None


def due_action(
    now: datetime, target_at: datetime, warn_at: datetime | None, warned: bool, status: ClockStatus
) -> SweepDecision:
    """What the sweep does with a clock whose check is due. A clock past both its warning and its
    target is breached without a separate warning: the breach says more than the warning would."""
    if status is not ClockStatus.RUNNING:
        return SweepDecision(False, False, None)
    if now >= target_at:
        return SweepDecision(False, True, None)
    if warn_at is not None and not warned and now >= warn_at:
        return SweepDecision(True, False, target_at)
    return SweepDecision(False, False, warn_at if warn_at is not None and not warned and warn_at > now else target_at)


def duration_text(minutes: int, lang: str) -> str:
    """A target as the help center and priority reasons say it: whole hours in hours, the rest in
    minutes, so "30 分钟" and "24 hours" are the policy's own numbers."""
    zh = lang.lower().startswith("zh")
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} 小时" if zh else f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{minutes} 分钟" if zh else f"{minutes} minute{'' if minutes == 1 else 's'}"


def promise_text(first_response: int | None, resolution: int | None, always_open: bool) -> tuple[str, str]:
    """What a ticket's clocks promise, in zh and en, from the targets they count."""
    zh_parts, en_parts = [], []
    if first_response is not None:
        zh_parts.append(f"{duration_text(first_response, 'zh')}内首次回复")
        en_parts.append(f"a first response within {duration_text(first_response, 'en')}")
    if resolution is not None:
        zh_parts.append(f"{duration_text(resolution, 'zh')}内处理完毕")
        en_parts.append(f"resolved within {duration_text(resolution, 'en')}")
    if not zh_parts:
        return "", ""
    if always_open:
        return "全天候计时：" + "，".join(zh_parts) + "。", "Counted around the clock: " + " and ".join(en_parts) + "."
    return (
        "按服务时间计：" + "，".join(zh_parts) + "。",
        "Counted in service hours: " + " and ".join(en_parts) + ".",
    )


def remaining_seconds(remaining: timedelta) -> int:
    """Whole seconds for display; negative when overdue."""
    seconds = remaining.total_seconds()
    return int(seconds) if seconds >= 0 else -int(-seconds)
