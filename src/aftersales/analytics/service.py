"""Analytics use cases: record a metric event once and keep the daily rollups in step with it,
rebuild the rollups from the events, and read the dashboards from the rollups.

The translation of other contexts' events into metric events lives in feeding.py (called by
handlers.py); this module knows only metric events and rollups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from aftersales.analytics import domain
from aftersales.analytics.domain import Dims, DimType, Metric
from aftersales.analytics.models import DailyRollup, MetricEvent
from aftersales.analytics.repository import AnalyticsRepository
from aftersales.analytics.schemas import Dashboard, DrillRow, KpiRow
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.errors import Invalid
from aftersales.orders import service as orders
from aftersales.routing import service as routing
from aftersales.tickets import service as tickets

__all__ = ["Dashboard", "DrillRow", "Fact", "KpiRow"]
MAX_DAYS = 366
QUANTILE_METRICS = [Metric.FIRST_REPLY.value, Metric.RESOLVED.value]
DRILL_LIMIT = 500
# The event column each dashboard dimension filters on when drilling down.
DRILL_COLUMNS = {
    DimType.AGENT: "agent_id",
    DimType.TEAM: "team",
    DimType.CHANNEL: "channel",
    DimType.MERCHANT: "merchant_id",
    DimType.CATEGORY: "category",
    DimType.REASON: "reason_tag",
    DimType.CARRIER: "carrier",
    DimType.PROVINCE: "province",
    DimType.CITY: "city",
}


@dataclass(frozen=True, slots=True)
class Fact:
    """One metric event to record: `key` makes it once-only (the same source event twice adds nothing)."""

    name: Metric
    occurred_at: datetime
    subject_type: str
    subject_ref: str
    key: str
    dims: Dims = field(default_factory=Dims)
    ticket_number: str = ""
    customer_id: int | None = None
    order_number: str = ""
    value_s: float = 0.0
    value_business_s: float = 0.0


def tenant_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_date(at: datetime) -> date:
    return clock.ensure_utc(at).astimezone(tenant_zone()).date()


def _bump(row: DailyRollup, value_s: float, value_business_s: float) -> None:
    row.count += 1
    row.sum_s += value_s
    row.sum_business_s += value_business_s
    histogram = list(row.histogram or domain.empty_histogram())
    histogram[domain.bucket_of(value_business_s)] += 1
    row.histogram = histogram  # a new list: JSON columns see only assignments


def record_in(session: Session, fact: Fact) -> bool:
    """Append the metric event and add it to its day's rollups; False when its key was seen before."""
    repo = AnalyticsRepository(session)
    if repo.has_event(fact.key):
        return False
    day = local_date(fact.occurred_at)
    d = fact.dims
    repo.add(
        MetricEvent(
            name=fact.name.value, occurred_at=clock.ensure_utc(fact.occurred_at), local_date=day,
            subject_type=fact.subject_type, subject_ref=fact.subject_ref[:64], ticket_number=fact.ticket_number,
            customer_id=fact.customer_id, order_number=fact.order_number[:64], agent_id=d.agent_id,
            team=d.team[:64], channel=d.channel[:16], merchant_id=d.merchant_id, category=d.category[:64],
            reason_tag=d.reason_tag[:64], carrier=d.carrier[:32], province=d.province[:32], city=d.city[:32],
            value_s=fact.value_s, value_business_s=fact.value_business_s, idempotency_key=fact.key[:160],
            recorded_at=clock.now(),
        )
    )  # fmt: skip
    for dim_type, dim_id in d.rollup_keys():
        row = repo.rollup_for_update(day, dim_type.value, dim_id[:64], fact.name.value)
        if row is None:
            row = DailyRollup(day=day, dim_type=dim_type.value, dim_id=dim_id[:64], metric=fact.name.value, count=0,
                              sum_s=0.0, sum_business_s=0.0, histogram=domain.empty_histogram())  # fmt: skip
            repo.add(row)
        _bump(row, fact.value_s, fact.value_business_s)
    session.flush()
    return True


def record(db: Database, fact: Fact) -> bool:
    with db.write() as uow:
        added = record_in(uow.session, fact)
        uow.commit()
        return added


# --- rebuild ------------------------------------------------------------------------------------
def _empty_rollup(k: tuple[date, str, str, str]) -> dict[str, Any]:
    return {"day": k[0], "dim_type": k[1], "dim_id": k[2], "metric": k[3], "count": 0, "sum_s": 0.0,
            "sum_business_s": 0.0, "histogram": domain.empty_histogram()}  # fmt: skip


def rebuild(db: Database, since: date | None = None) -> tuple[int, int]:
    """Recompute the daily rollups from the metric events (all days, or from `since` on), in one
    transaction: a dashboard reads either the old rollups or the new ones. Returns (events, rows)."""
    with db.write() as uow:
        repo = AnalyticsRepository(uow.session)
        repo.delete_rollups_since(since)
        rows: dict[tuple[date, str, str, str], dict[str, Any]] = {}
        events = 0
        for (
            day,
            name,
            agent,
            team,
            channel,
            merchant,
            category,
            reason,
            carrier,
            province,
            city,
            value_s,
            value_b,
        ) in repo.event_rows_since(since):
            events += 1
            dims = Dims(agent_id=agent, team=team, channel=channel, merchant_id=merchant, category=category,
                        reason_tag=reason, carrier=carrier, province=province, city=city)  # fmt: skip
            bucket = domain.bucket_of(value_b)
            for dim_type, dim_id in dims.rollup_keys():
                k = (day, dim_type.value, dim_id[:64], name)
                row = rows.get(k)
                if row is None:
                    row = rows[k] = _empty_rollup(k)
                row["count"] += 1
                row["sum_s"] += value_s
                row["sum_business_s"] += value_b
                row["histogram"][bucket] += 1
        repo.insert_rollups(list(rows.values()))
        uow.commit()
        return events, len(rows)


def rollup_snapshot(db: Database) -> dict[tuple[str, str, str, str], tuple[int, float, float, list[int]]]:
    """Every rollup row as plain values (the rebuild test compares live and rebuilt rollups)."""
    with db.read() as uow:
        return {
            (r.day.isoformat(), r.dim_type, r.dim_id, r.metric): (
                r.count,
                round(r.sum_s, 3),
                round(r.sum_business_s, 3),
                list(r.histogram),
            )
            for r in AnalyticsRepository(uow.session).all_rollups()
        }


# --- dashboards ---------------------------------------------------------------------------------
@dataclass(slots=True)
class _Totals:
    count: int = 0
    sum_s: float = 0.0
    sum_business_s: float = 0.0
    histogram: list[int] = field(default_factory=domain.empty_histogram)

    def add(self, count: int, sum_s: float, sum_business_s: float, histogram: list[int] | None) -> None:
        self.count += int(count)
        self.sum_s += float(sum_s or 0)
        self.sum_business_s += float(sum_business_s or 0)
        if histogram:
            self.histogram = [a + b for a, b in zip(self.histogram, histogram, strict=False)]


def _kpis(key: str, label: str, m: dict[str, _Totals]) -> KpiRow:
    def n(metric: Metric) -> int:
        return m[metric.value].count if metric.value in m else 0

    def q(metric: Metric, p: float) -> float | None:
        return domain.quantile(m[metric.value].histogram, p) if metric.value in m else None

    tickets_n, resolved = n(Metric.TICKET_CREATED), n(Metric.RESOLVED)
    deflected = n(Metric.BOT_RESOLVED) + n(Metric.SELF_SERVICE_DONE)
    return KpiRow(
        key=key, label=label, contacts=tickets_n + deflected, tickets=tickets_n, resolved=resolved,
        frt_p50_s=q(Metric.FIRST_REPLY, 0.5), frt_p90_s=q(Metric.FIRST_REPLY, 0.9),
        resolution_p50_s=q(Metric.RESOLVED, 0.5), resolution_p90_s=q(Metric.RESOLVED, 0.9),
        sla_percent=domain.sla_percent(n(Metric.SLA_MET), n(Metric.SLA_BREACHED)),
        one_touch_percent=domain.one_touch_percent(n(Metric.ONE_TOUCH), resolved),
        fcr_percent=domain.fcr_percent(resolved, n(Metric.REOPENED), n(Metric.REPEAT_CONTACT)),
        reopen_percent=domain.reopen_percent(n(Metric.REOPENED), resolved),
        deflection_percent=domain.deflection_percent(n(Metric.BOT_RESOLVED), n(Metric.SELF_SERVICE_DONE), tickets_n),
        contacts_per_order=domain.contacts_per_order(tickets_n + deflected, n(Metric.ORDER_PLACED)),
        bot_handoffs=n(Metric.BOT_HANDOFF), refunds_paid=n(Metric.REFUND_PAID), deliveries=n(Metric.DELIVERY_DONE),
        csat_responses=n(Metric.CSAT_SUBMITTED),
    )  # fmt: skip


def _labels(db: Database, dim: DimType, ids: Iterable[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    if dim is DimType.AGENT and numeric:
        with db.read() as uow:
            return {str(k): v for k, v in identity.display_names_in(uow.session, numeric).items()}
    if dim is DimType.MERCHANT and numeric:
        return {str(m.id): m.name for m in orders.list_merchants(db)}
    return {}


def team_names(db: Database, lang: str) -> dict[str, str]:
    """Teams (skill groups) by key, named in the reader's language: pages never show the key."""
    return routing.group_names(db, lang)


def checked_range(first: date, last: date) -> None:
    if last < first:
        raise Invalid("The period ends before it starts; pick a 'to' date on or after the 'from' date.")
    if (last - first).days >= MAX_DAYS:
        raise Invalid(f"Pick a period of at most {MAX_DAYS} days.")


def dashboard(db: Database, first: date, last: date, dim: DimType) -> Dashboard:
    """KPIs over [first, last] (local days): the total, one row per value of `dim`, one per day."""
    checked_range(first, last)
    with db.read() as uow:
        repo = AnalyticsRepository(uow.session)
        by_dim: dict[str, dict[str, _Totals]] = defaultdict(dict)
        if dim is not DimType.ALL:
            # Sums by the database; only the two timed metrics' histograms are merged here.
            for dim_id, metric, count, sum_s, sum_b in repo.rollup_sums(first, last, dim):
                by_dim[dim_id].setdefault(metric, _Totals()).add(count, sum_s, sum_b, None)
            for dim_id, metric, histogram in repo.rollup_histograms(first, last, dim, QUANTILE_METRICS):
                by_dim[dim_id][metric].add(0, 0.0, 0.0, histogram)
        total: dict[str, _Totals] = {}
        by_day: dict[str, dict[str, _Totals]] = defaultdict(dict)
        for day, metric, count, sum_s, sum_b, histogram in repo.daily_all(first, last):
            total.setdefault(metric, _Totals()).add(count, sum_s, sum_b, histogram)
            by_day[day.isoformat()].setdefault(metric, _Totals()).add(count, sum_s, sum_b, histogram)
    labels = _labels(db, dim, by_dim)
    rows = sorted(
        (_kpis(k, labels.get(k, k), m) for k, m in by_dim.items()), key=lambda r: (-r.contacts, -r.resolved, r.key)
    )
    days = []
    for offset in range((last - first).days + 1):
        iso = (first + timedelta(days=offset)).isoformat()
        days.append(_kpis(iso, iso, by_day.get(iso, {})))
    now = clock.now()
    backlog = domain.backlog_by_age(tickets.open_ticket_ages(db, now))
    return Dashboard(first=first, last=last, dim=dim.value, total=_kpis("", "", total), rows=rows, days=days,
                     backlog=backlog)  # fmt: skip


def _drill_row(e: MetricEvent) -> DrillRow:
    return DrillRow(occurred_at=e.occurred_at, metric=e.name, subject_type=e.subject_type, subject_ref=e.subject_ref,
                    ticket_number=e.ticket_number, value_s=e.value_s, value_business_s=e.value_business_s,
                    channel=e.channel, team=e.team)  # fmt: skip


def drill(db: Database, metric: str, first: date, last: date, dim: DimType, dim_id: str | None) -> list[DrillRow]:
    """The metric events behind one number of a dashboard (at most DRILL_LIMIT, newest first)."""
    checked_range(first, last)
    try:
        name = Metric(metric)
    except ValueError as exc:
        raise Invalid(f"Unknown metric '{metric}'; use one of: {', '.join(m.value for m in Metric)}.") from exc
    column = DRILL_COLUMNS.get(dim)
    if column in ("agent_id", "merchant_id") and dim_id is not None and not dim_id.isdigit():
        raise Invalid(f"A {dim.value} is named by its number, not '{dim_id[:40]}'.")
    with db.read() as uow:
        found = AnalyticsRepository(uow.session).drill(
            name.value, first, last, column, dim_id if column else None, DRILL_LIMIT
        )
        return [
            DrillRow(
                occurred_at=e.occurred_at,
                metric=e.name,
                subject_type=e.subject_type,
                subject_ref=e.subject_ref,
                ticket_number=e.ticket_number,
                value_s=e.value_s,
                value_business_s=e.value_business_s,
                channel=e.channel,
                team=e.team,
            )
            for e in found
        ]


def count_events(db: Database) -> int:
    with db.read() as uow:
        return AnalyticsRepository(uow.session).count_events()


def metric_names() -> list[str]:
    return [m.value for m in Metric]


def export_rows(board: Dashboard) -> list[dict[str, Any]]:
    """The dashboard's rows as flat records (CSV and Excel export)."""
    return [
        row.model_dump() for row in [board.total.model_copy(update={"key": "total", "label": "total"}), *board.rows]
    ]
