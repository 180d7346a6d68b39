"""Use cases of the SLA context: clocks per ticket and metric, and the sweep.

The tickets context calls start/pause/resume/met/retarget/stop_all inside its own transaction
(these take its Session and never commit). `sweep(db, now)` is the worker's periodic task: it
reads only clocks whose next check is due (an index on next_check_at), marks them warned or
breached, writes the metric events, and publishes "sla.warning" / "sla.breached" to the outbox.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
import yaml
from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.kit import clock as wall
from aftersales.kit.clock import ensure_utc
from aftersales.kit.errors import Invalid
from aftersales.messaging import outbox, scans
from aftersales.sla.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    CalendarError,
    add_business_time,
    business_time_between,
    weekly_from_mapping,
)
from aftersales.sla.domain import (
    ALWAYS_OPEN_KEY,
    COUNTING_STATUSES,
    DESK_CALENDAR_KEY,
    OPEN_STATUSES,
    SUBJECT_TICKET,
    ClockStatus,
    EventKind,
    Metric,
    Schedule,
    SlaRuleError,
    check_type_and_priority,
    due_action,
    duration_text,
    promise_text,
    schedule,
)
from aftersales.sla.events import SlaBreached, SlaMet, SlaWarning
from aftersales.sla.models import SlaClock, SlaEvent
from aftersales.sla.reference import ALWAYS_OPEN, Calendars, PolicyCell, policies_for
from aftersales.sla.repository import SlaRepository
from aftersales.sla.schemas import ClockView, DeskHours, SweepResult

__all__ = [
    "ClockView",
    "Promise",
    "SweepResult",
    "at_risk",
    "business_seconds",
    "channel_calendars",
    "channel_hours",
    "clocks_for",
    "help_facts",
    "load_defaults",
    "logistics_calendar",
    "logistics_time",
    "met",
    "pause",
    "promise",
    "resume",
    "retarget",
    "start",
    "stop_all",
    "sweep",
]

log = structlog.get_logger(__name__)
TOPIC_WARNING = SlaWarning.topic
TOPIC_BREACHED = SlaBreached.topic
SCAN = "sla_clocks"
DEFAULTS_PATH = Path(__file__).parent / "data" / "defaults.yaml"


# --- calendars: read through the per-process cache of reference data (sla.reference) ------------
_Calendars = Calendars


def desk_hours(db: Database, key: str = DESK_CALENDAR_KEY) -> DeskHours | None:
    """The hours the human desk works, read from the calendar its deadlines count on (None when an
    administrator removed it: the help page then says nothing rather than something untrue)."""
    with db.read() as uow:
        row = SlaRepository(uow.session).calendar(key)
        if row is None:
            return None
        weekly = row.weekly or {}
        return DeskHours(
            name_zh=row.name_zh,
            name_en=row.name_en,
            time_zone=row.time_zone,
            always_open=row.always_open,
            chinese_holidays=row.chinese_holidays,
            weekly=[(day, [list(p) for p in weekly.get(day, [])]) for day in WEEKDAYS],
        )


@functools.cache
def channel_calendars(path: Path = DEFAULTS_PATH) -> dict[str, str]:
    """The calendar each channel's tickets count on (defaults.yaml's `channels`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in (data.get("channels") or {}).items()}


def channel_hours(db: Database, channel: str) -> DeskHours | None:
    """The hours a channel's tickets count on, when it has a calendar of its own."""
    key = channel_calendars().get(channel)
    return desk_hours(db, key) if key else None


def _calendar_key(calendars: Calendars, policy: PolicyCell, team: str, channel: str = "") -> str:
    if not policy.business_hours:
        return ALWAYS_OPEN_KEY
    if team and calendars.exists(team):
        return team
    by_channel = channel_calendars().get(channel, "")
    if by_channel and calendars.exists(by_channel):
        return by_channel
    return policy.calendar_key


# The days parcels move on, for proactive service's stall thresholds ("48 business hours"): whole
# working days, public holidays off and make-up workdays (调休) on. An administrator who adds a
# calendar with this key at /admin/sla changes it.
LOGISTICS_CALENDAR_KEY = "logistics"
_ALL_DAY = (("00:00", "24:00"),)
LOGISTICS_CALENDAR = BusinessCalendar(
    key=LOGISTICS_CALENDAR_KEY,
    weekly=weekly_from_mapping({day: [list(p) for p in _ALL_DAY] for day in WEEKDAYS[:5]}),
)


def logistics_calendar(session: Session) -> BusinessCalendar:
    """The calendar logistics business time counts on: the stored one with key "logistics" when an
    administrator made it, else the built-in working-day calendar."""
    calendars = _Calendars(SlaRepository(session))
    return calendars.get(LOGISTICS_CALENDAR_KEY) if calendars.exists(LOGISTICS_CALENDAR_KEY) else LOGISTICS_CALENDAR


def logistics_time(session: Session) -> Callable[[datetime, timedelta], datetime]:
    """Adds business time on the logistics calendar: (start, duration of open time) → when it is over."""
    return functools.partial(add_business_time, logistics_calendar(session))


def business_seconds(session: Session, start: datetime, end: datetime, channel: str = "") -> int:
    """Business seconds between two instants on the calendar a channel's tickets count on (the desk's
    calendar otherwise): what reports state beside wall time."""
    calendars = _Calendars(SlaRepository(session))
    key = channel_calendars().get(channel, "")
    if not key or not calendars.exists(key):
        key = DESK_CALENDAR_KEY
    if end <= start:
        return 0
    return _seconds(business_time_between(calendars.get(key), ensure_utc(start), ensure_utc(end)))


# --- promises: what help and priority reasons say, from the same cells the clocks count ---------
@dataclass(frozen=True, slots=True)
class Promise:
    first_response_minutes: int | None
    resolution_minutes: int | None
    calendar_key: str
    always_open: bool

    def text(self) -> tuple[str, str]:
        """(zh, en) sentence naming the targets and how they are counted."""
        return promise_text(self.first_response_minutes, self.resolution_minutes, self.always_open)


def promise(session: Session, ticket_type: str, priority: str, channel: str = "") -> Promise:
    """The targets a new ticket of this type, priority and channel gets, and the calendar they
    count on (start() picks the same one)."""
    _checked(ticket_type, priority)
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    minutes: dict[str, int] = {}
    key = DESK_CALENDAR_KEY
    for policy in policies_for(session, ticket_type, priority):
        minutes[policy.metric] = policy.target_minutes
        key = _calendar_key(calendars, policy, "", channel)
    always = calendars.get(key).always_open
    return Promise(minutes.get(Metric.FIRST_RESPONSE), minutes.get(Metric.RESOLUTION), key, always)


def help_facts(db: Database) -> dict[str, tuple[str, str]]:
    """Placeholders the help articles may use, read from the policy matrix so an article never
    states a target nobody counts: `sla.<type>.<priority>.<metric>` → (zh, en) duration, and
    `sla.<type>.<priority>.counting` → how that cell's clocks count (service hours or around the
    clock)."""
    facts: dict[str, tuple[str, str]] = {}
    with db.read() as uow:
        for p in SlaRepository(uow.session).policies():
            cell = f"sla.{p.ticket_type}.{p.priority}"
            facts[f"{cell}.{p.metric}"] = (duration_text(p.target_minutes, "zh"), duration_text(p.target_minutes, "en"))
            facts[f"{cell}.counting"] = (
                ("按服务时间计", "counted in service hours")
                if p.business_hours
                else ("全天候计时", "counted around the clock")
            )
    return facts


# --- helpers ------------------------------------------------------------------------------------
def _seconds(delta: timedelta) -> int:
    return max(int(delta.total_seconds()), 0)


def _elapsed(calendar: BusinessCalendar, row: SlaClock, at: datetime) -> int:
    """Business seconds counted on the clock up to `at`."""
    if row.status in COUNTING_STATUSES and at > row.segment_started_at:
        return row.used_seconds + _seconds(business_time_between(calendar, row.segment_started_at, at))
    return row.used_seconds


def _event(
    repo: SlaRepository, row: SlaClock, kind: EventKind, at: datetime, elapsed: int, *, late: bool = False
) -> None:
    # Field by field on purpose: SlaEvent's own fields; look-alikes elsewhere build others'.
    repo.add(
        SlaEvent(
            clock_id=row.id,
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            metric=row.metric,
            kind=kind.value,
            occurred_at=at,
            elapsed_seconds=elapsed,
            target_seconds=row.target_seconds,
            ticket_type=row.ticket_type,
            priority=row.priority,
            team=row.team,
            late=late,
        )
    )


def _reschedule(calendar: BusinessCalendar, row: SlaClock) -> None:
    def plan_on(on: BusinessCalendar) -> Schedule:
        return schedule(
            on,
            row.segment_started_at,
            row.target_seconds,
            row.warn_seconds,
            row.used_seconds,
            warned=row.warned_at is not None,
            breached=row.breached_at is not None,
        )

    try:
        plan = plan_on(calendar)
    except CalendarError as exc:
        # A calendar closed for longer than the arithmetic looks ahead must not fail the ticket:
        # count wall-clock time (deadlines come sooner) and tell the administrator.
        log.error("sla.calendar_without_open_time", key=calendar.key, error=str(exc))
        plan = plan_on(ALWAYS_OPEN)
    if row.breached_at is None:
        row.target_at = plan.target_at
    row.warn_at = plan.warn_at if row.warned_at is None else row.warn_at
    row.next_check_at = plan.next_check_at if row.status == ClockStatus.RUNNING else None


def _breach_if_due(session: Session, repo: SlaRepository, row: SlaClock, at: datetime, *, publish: bool) -> None:
    """A running clock past its deadline that is about to stop counting (pause, stop) records the
    breach the sweep has not seen yet; otherwise it would leave the due set unbreached."""
    if row.status != ClockStatus.RUNNING or row.breached_at is not None or at < row.target_at:
        return
    row.breached_at = row.target_at
    row.status = ClockStatus.BREACHED.value
    _event(repo, row, EventKind.BREACHED, row.target_at, row.target_seconds, late=True)
    if publish:
        _announce(session, row, SlaBreached(*_clock_facts(row)))


def _at(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise Invalid("Give SLA times as timezone-aware datetimes.")
    return ensure_utc(at)


def _skip_locked(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _checked(ticket_type: str, priority: str) -> None:
    try:
        check_type_and_priority(ticket_type, priority)
    except SlaRuleError as exc:
        raise Invalid(str(exc).capitalize() + ".") from exc


# --- clocks: called by the tickets context in its transaction -----------------------------------
def start(
    session: Session,
    subject_id: int,
    ticket_type: str,
    priority: str,
    team: str | None,
    at: datetime,
    *,
    channel: str = "",
) -> None:
    """Start the clocks of a ticket for every metric its policy cell has, on the calendar of its
    team, else of its channel (a chat hand-off counts on the chat calendar), else of the cell. Running clocks are left
    as they are (starting twice is harmless); a closed clock starts a new run (a reopened ticket),
    except a first response already met, which stays met. Earlier runs stay in the events."""
    _checked(ticket_type, priority)
    at = _at(at)
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    existing = {
        row.metric: row for row in repo.clocks_for_update(SUBJECT_TICKET, subject_id, lock=_skip_locked(session))
    }
    policies = policies_for(session, ticket_type, priority)
    if not policies:
        log.warning("sla.no_policy", ticket_type=ticket_type, priority=priority)
    for policy in policies:
        row = existing.get(policy.metric)
        if row is not None and (
            row.status in OPEN_STATUSES or (row.status == ClockStatus.MET and row.metric == Metric.FIRST_RESPONSE)
        ):
            continue
        key = _calendar_key(calendars, policy, team or "", channel)
        calendar = calendars.get(key)  # read before the new row joins the session (autoflush)
        fresh = row is None
        if row is None:
            row = SlaClock(subject_kind=SUBJECT_TICKET, subject_id=subject_id, metric=policy.metric)
        row.ticket_type, row.priority, row.team = ticket_type, priority, (team or "")[:64]
        row.status = ClockStatus.RUNNING.value
        row.calendar_key = key
        row.target_seconds = policy.target_minutes * 60
        row.warn_seconds = row.target_seconds * policy.warn_percent // 100
        row.used_seconds = 0
        row.started_at = row.segment_started_at = at
        row.paused_at = row.warned_at = row.breached_at = row.stopped_at = row.warn_at = None
        _reschedule(calendar, row)
        if fresh:
            repo.add(row)
        session.flush()  # the event needs the clock's id
        _event(repo, row, EventKind.STARTED, at, 0)


# Its walk looks like stop_all()'s; deliberately apart (see there): a paused clock counts again later.
def pause(session: Session, subject_id: int, at: datetime) -> None:
    """The ticket waits on the customer: counting clocks stop counting until resume()."""
    at = _at(at)
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    for row in repo.clocks_for_update(SUBJECT_TICKET, subject_id, lock=_skip_locked(session)):
        if row.status not in COUNTING_STATUSES:
            continue
        _breach_if_due(session, repo, row, at, publish=True)
        row.used_seconds = _elapsed(calendars.get(row.calendar_key), row, at)
        row.status = ClockStatus.PAUSED.value
        row.paused_at = at
        row.next_check_at = None
        _event(repo, row, EventKind.PAUSED, at, row.used_seconds)


def resume(session: Session, subject_id: int, at: datetime) -> None:
    """The customer answered: paused clocks count again with the business time they had left."""
    at = _at(at)
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    for row in repo.clocks_for_update(SUBJECT_TICKET, subject_id, lock=_skip_locked(session)):
        if row.status != ClockStatus.PAUSED:
            continue
        row.status = (ClockStatus.BREACHED if row.breached_at is not None else ClockStatus.RUNNING).value
        row.paused_at = None
        row.segment_started_at = max(at, row.segment_started_at)
        _reschedule(calendars.get(row.calendar_key), row)
        _event(repo, row, EventKind.RESUMED, at, row.used_seconds)


def met(session: Session, subject_id: int, metric: str, at: datetime) -> bool | None:
    """The first response was sent or the ticket resolved. Returns True when on time, False when
    late (a breach the sweep had not yet seen is recorded too), None when no clock was open.
    A resolution also meets a first response still open: resolving answers the customer."""
    try:
        wanted = Metric(metric)
    except ValueError as exc:
        raise Invalid(f"Unknown SLA metric '{metric}'; use first_response or resolution.") from exc
    at = _at(at)
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    metrics = {wanted.value} if wanted is Metric.FIRST_RESPONSE else {m.value for m in Metric}
    outcome: bool | None = None
    for row in repo.clocks_for_update(SUBJECT_TICKET, subject_id, lock=_skip_locked(session)):
        if row.metric not in metrics or row.status not in OPEN_STATUSES:
            continue
        elapsed = _elapsed(calendars.get(row.calendar_key), row, at)
        late = row.breached_at is not None or elapsed > row.target_seconds
        if late and row.breached_at is None:
            # Met after the deadline before any sweep saw it: the breach still counts in reports.
            row.breached_at = min(row.target_at, at) if row.status == ClockStatus.RUNNING else at
            _event(repo, row, EventKind.BREACHED, row.breached_at, row.target_seconds, late=True)
        row.used_seconds = elapsed
        row.status = ClockStatus.MET.value
        row.stopped_at = at
        row.paused_at = None
        row.next_check_at = None
        _event(repo, row, EventKind.MET, at, elapsed, late=late)
        outbox.publish_event(
            session,
            SlaMet(
                subject_id=row.subject_id,
                metric=row.metric,
                cause=wanted.value,
                clock_id=row.id,
                started_at=row.started_at.astimezone(UTC).isoformat(),
                occurred_at=at.astimezone(UTC).isoformat(),
                elapsed_seconds=elapsed,
                target_seconds=row.target_seconds,
                late=late,
            ),
            f"sla.met:{row.id}:{at.astimezone(UTC).isoformat()}",  # a reopened ticket meets its clock again
        )
        if row.metric == wanted.value:
            outcome = not late
    return outcome


def retarget(
    session: Session, subject_id: int, ticket_type: str, priority: str, at: datetime, *, channel: str = ""
) -> None:
    """Type or priority changed: open clocks take the new cell's target, counted from their start
    (time already spent stays spent). A breach already recorded stands."""
    _checked(ticket_type, priority)
    at = _at(at)
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    policies = {p.metric: p for p in policies_for(session, ticket_type, priority)}
    for row in repo.clocks_for_update(SUBJECT_TICKET, subject_id, lock=_skip_locked(session)):
        policy = policies.get(row.metric)
        if row.status not in OPEN_STATUSES or policy is None:
            continue
        key = _calendar_key(calendars, policy, row.team, channel)
        if row.status in COUNTING_STATUSES and key != row.calendar_key:
            # Close the segment on the old calendar; the rest counts on the new one.
            row.used_seconds = _elapsed(calendars.get(row.calendar_key), row, at)
            row.segment_started_at = max(at, row.segment_started_at)
        row.ticket_type, row.priority, row.calendar_key = ticket_type, priority, key
        row.target_seconds = policy.target_minutes * 60
        row.warn_seconds = row.target_seconds * policy.warn_percent // 100
        if row.status in COUNTING_STATUSES:
            _reschedule(calendars.get(key), row)
        _event(repo, row, EventKind.RETARGETED, at, _elapsed(calendars.get(key), row, at))


# Deliberately apart from pause(), although the walk looks alike: a paused clock resumes and its breach
# is announced now; a stopped one never runs again and is only marked late.
def stop_all(session: Session, subject_id: int, at: datetime) -> None:
    """The ticket closed (resolved, merged, cancelled): every open clock stops without being met."""
    at = _at(at)
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    for row in repo.clocks_for_update(SUBJECT_TICKET, subject_id, lock=_skip_locked(session)):
        if row.status not in OPEN_STATUSES:
            continue
        _breach_if_due(session, repo, row, at, publish=False)
        row.used_seconds = _elapsed(calendars.get(row.calendar_key), row, at)
        row.status = ClockStatus.STOPPED.value
        row.stopped_at = at
        row.paused_at = None
        row.next_check_at = None
        _event(repo, row, EventKind.STOPPED, at, row.used_seconds, late=row.breached_at is not None)


def clocks_for(session: Session, subject_ids: list[int]) -> dict[int, list[ClockView]]:
    """The clocks of these tickets for display, with business time left (negative: overdue)."""
    repo = SlaRepository(session)
    calendars = _Calendars(repo)
    now = wall.now()
    views: dict[int, list[ClockView]] = {subject_id: [] for subject_id in subject_ids}
    for row in repo.clocks_of(SUBJECT_TICKET, subject_ids):
        elapsed = _elapsed(calendars.get(row.calendar_key), row, now)
        views.setdefault(row.subject_id, []).append(
            ClockView(
                clock_id=row.id,
                subject_id=row.subject_id,
                metric=row.metric,
                status=row.status,
                target_at=row.target_at,
                warn_at=row.warn_at,
                breached_at=row.breached_at,
                stopped_at=row.stopped_at,
                target_seconds=row.target_seconds,
                remaining_seconds=row.target_seconds - elapsed,
                calendar_key=row.calendar_key,
            )
        )
    return views


def at_risk(session: Session, limit: int = 100) -> list[int]:
    """Tickets whose clocks have warned or breached and are still open (the supervisor's list)."""
    return SlaRepository(session).at_risk(SUBJECT_TICKET, limit)


def events_of(db: Database, subject_id: int) -> list[SlaEvent]:
    with db.read() as uow:
        return SlaRepository(uow.session).events_of(SUBJECT_TICKET, subject_id)


# --- the sweep ----------------------------------------------------------------------------------
def _clock_facts(row: SlaClock) -> tuple[int, str, str, int]:
    """What a warning or a breach says: the ticket, the metric, the target (UTC) and the clock."""
    return row.subject_id, row.metric, row.target_at.astimezone(UTC).isoformat(), row.id


def _announce(session: Session, row: SlaClock, event: SlaWarning | SlaBreached) -> None:
    """The one place the SLA context publishes: a clock warned or breached, once per clock."""
    outbox.publish_event(session, event, f"{event.topic}:{row.id}")


def _check_clock(session: Session, repo: SlaRepository, row: SlaClock, now: datetime) -> str:
    """Warn or breach one due clock; returns "breached", "warned" or ""."""
    decision = due_action(now, row.target_at, row.warn_at, row.warned_at is not None, ClockStatus(row.status))
    done = ""
    if decision.breach:
        # The promise broke at target_at, whenever the sweep noticed it.
        row.breached_at = row.target_at
        row.status = ClockStatus.BREACHED.value
        _event(repo, row, EventKind.BREACHED, row.target_at, row.target_seconds, late=True)
        _announce(session, row, SlaBreached(*_clock_facts(row)))
        done = "breached"
    elif decision.warn and row.warn_at is not None:
        row.warned_at = row.warn_at
        _event(repo, row, EventKind.WARNED, row.warn_at, row.warn_seconds)
        _announce(session, row, SlaWarning(*_clock_facts(row)))
        done = "warned"
    row.next_check_at = decision.next_check_at
    row.sweep_failures = 0
    return done


def _back_off(session: Session, row_id: int, now: datetime, error: Exception) -> bool:
    """Put a clock the sweep failed on back with a growing delay; False when even that failed."""
    failures = 0
    try:
        with session.begin_nested():
            row = session.get(SlaClock, row_id)
            if row is not None:
                row.sweep_failures += 1
                failures = row.sweep_failures
                row.next_check_at = now + scans.retry_delay(failures)
        backed_off = True
    except Exception as exc:
        log.error("sla.backoff_failed", clock_id=row_id, error=repr(exc))
        backed_off = False
    scans.item_failed(SCAN, row_id, error, failures)
    return backed_off


def sweep(db: Database, now: datetime | None = None, batch: int = 500) -> SweepResult:
    """Warn and breach the clocks whose next check has come, in batches of `batch` rows, each
    batch in one transaction and each clock in its own savepoint inside it: a clock that fails
    is rolled back alone, logged, counted in /metrics and checked again later with back-off,
    and the others are committed (a commit per clock would multiply the cost of a big sweep).
    Reads only due rows through the index; with PostgreSQL two workers can sweep at once (SKIP
    LOCKED). A clock warns once and breaches once: the state it leaves behind takes it out of
    the due set, so a second sweep publishes nothing new."""
    now = ensure_utc(now or wall.now())
    checked = warned = breached = batches = 0
    stuck: set[int] = set()  # failed and could not even be put back: not read again this run
    while True:
        with db.write() as uow:
            repo = SlaRepository(uow.session)
            rows = repo.due(now, batch, skip_locked=not db.is_sqlite, leaving_out=stuck)
            for row_id in [row.id for row in rows]:
                try:
                    with uow.session.begin_nested():
                        row = uow.session.get(SlaClock, row_id)
                        done = _check_clock(uow.session, repo, row, now) if row is not None else ""
                except Exception as exc:
                    if not _back_off(uow.session, row_id, now, exc):
                        stuck.add(row_id)
                    continue
                warned += done == "warned"
                breached += done == "breached"
            checked += len(rows)
            batches += 1
            uow.commit()
        if len(rows) < batch:
            break
    if warned or breached:
        log.info("sla.swept", checked=checked, warned=warned, breached=breached)
    return SweepResult(checked=checked, warned=warned, breached=breached, batches=batches)


def load_defaults(db: Database, path: Path | None = None) -> int:
    """The shipped calendars and policy matrix (sla/data/defaults.yaml); rows already present stay
    as administrators edited them. Returns how many rows were added."""
    from aftersales.sla import admin  # the admin use cases build on this module's calendar reader

    return admin.load_defaults(db, path)
