"""Every query of the analytics context: metric events and daily rollups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from aftersales.analytics.domain import DimType, Metric
from aftersales.analytics.models import DailyRollup, MetricEvent
from aftersales.db.repository import Repository


class AnalyticsRepository(Repository):
    def has_event(self, key: str) -> bool:
        return self.session.scalar(select(MetricEvent.id).where(MetricEvent.idempotency_key == key)) is not None

    def rollup_for_update(self, day: date, dim_type: str, dim_id: str, metric: str) -> DailyRollup | None:
        stmt = select(DailyRollup).where(
            DailyRollup.day == day,
            DailyRollup.dim_type == dim_type,
            DailyRollup.dim_id == dim_id,
            DailyRollup.metric == metric,
        )
        return self.session.scalar(stmt.with_for_update().execution_options(populate_existing=True))

    def last_event(self, name: Metric, ticket_number: str) -> MetricEvent | None:
        stmt = (
            select(MetricEvent)
            .where(MetricEvent.name == name.value, MetricEvent.ticket_number == ticket_number)
            .order_by(MetricEvent.occurred_at.desc())
            .limit(1)
        )
        return self.session.scalar(stmt)

    def last_subject_event(self, name: Metric, subject_ref: str) -> MetricEvent | None:
        stmt = (
            select(MetricEvent)
            .where(MetricEvent.name == name.value, MetricEvent.subject_ref == subject_ref)
            .order_by(MetricEvent.occurred_at.desc())
            .limit(1)
        )
        return self.session.scalar(stmt)

    def resolution_of_same_order(self, customer_id: int, order_number: str, since: datetime, before: datetime,
                                 not_ticket: str) -> MetricEvent | None:  # fmt: skip
        """The latest resolution of another ticket of this customer about this order in [since, before)."""
        stmt = (
            select(MetricEvent)
            .where(
                MetricEvent.name == Metric.RESOLVED.value,
                MetricEvent.customer_id == customer_id,
                MetricEvent.order_number == order_number,
                MetricEvent.occurred_at >= since,
                MetricEvent.occurred_at < before,
                MetricEvent.ticket_number != not_ticket,
            )
            .order_by(MetricEvent.occurred_at.desc())
            .limit(1)
        )
        return self.session.scalar(stmt)

    def event_rows_since(self, since: date | None, batch: int = 20_000) -> Iterator[tuple[Any, ...]]:
        """What a rollup needs of each metric event, streamed as plain rows (millions of them)."""
        e = MetricEvent
        stmt = select(
            e.local_date, e.name, e.agent_id, e.team, e.channel, e.merchant_id, e.category, e.reason_tag, e.carrier,
            e.province, e.city, e.value_s, e.value_business_s,
        )  # fmt: skip
        if since is not None:
            stmt = stmt.where(e.local_date >= since)
        for row in self.session.execute(stmt.execution_options(yield_per=batch)):
            yield tuple(row)

    def insert_rollups(self, rows: list[dict[str, Any]], batch: int = 5000) -> None:
        for start in range(0, len(rows), batch):
            self.session.execute(insert(DailyRollup), rows[start : start + batch])

    def delete_rollups_since(self, since: date | None) -> int:
        stmt = delete(DailyRollup)
        if since is not None:
            stmt = stmt.where(DailyRollup.day >= since)
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def rollup_sums(self, first: date, last: date, dim_type: DimType) -> list[tuple[str, str, int, float, float]]:
        """(dim_id, metric, count, sum, business sum) over the days, summed by the database."""
        r = DailyRollup
        stmt = (
            select(r.dim_id, r.metric, func.sum(r.count), func.sum(r.sum_s), func.sum(r.sum_business_s))
            .where(r.day >= first, r.day <= last, r.dim_type == dim_type.value)
            .group_by(r.dim_id, r.metric)
        )
        return [(d, m, int(c or 0), float(s or 0), float(b or 0)) for d, m, c, s, b in self.session.execute(stmt)]

    def rollup_histograms(
        self, first: date, last: date, dim_type: DimType, metrics: list[str]
    ) -> list[tuple[str, str, list[int]]]:
        r = DailyRollup
        stmt = select(r.dim_id, r.metric, r.histogram).where(
            r.day >= first, r.day <= last, r.dim_type == dim_type.value, r.metric.in_(metrics)
        )
        return [(d, m, list(h or [])) for d, m, h in self.session.execute(stmt)]

    def daily_all(self, first: date, last: date) -> list[tuple[date, str, int, float, float, list[int]]]:
        """The "all" rollups of each day (a few hundred rows for a month)."""
        r = DailyRollup
        stmt = select(r.day, r.metric, r.count, r.sum_s, r.sum_business_s, r.histogram).where(
            r.day >= first, r.day <= last, r.dim_type == DimType.ALL.value
        )
        return [(d, m, c, s, b, list(h or [])) for d, m, c, s, b, h in self.session.execute(stmt)]

    def all_rollups(self) -> list[DailyRollup]:
        return list(self.session.scalars(select(DailyRollup)))

    def drill(
        self, metric: str, first: date, last: date, column: str | None, value: str | None, limit: int
    ) -> list[MetricEvent]:
        """The metric events behind a number: one metric, a day range, one dimension's value."""
        stmt = select(MetricEvent).where(
            MetricEvent.name == metric, MetricEvent.local_date >= first, MetricEvent.local_date <= last
        )
        if column is not None and value is not None:
            attr = getattr(MetricEvent, column)
            stmt = stmt.where(attr == (int(value) if column in ("agent_id", "merchant_id") else value))
        return list(self.session.scalars(stmt.order_by(MetricEvent.occurred_at.desc()).limit(limit)))

    def count_events(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(MetricEvent)) or 0)
