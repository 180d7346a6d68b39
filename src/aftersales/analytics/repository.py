"""Every query of the analytics context: metric events and daily rollups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import delete, func, select

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

    def events_since(self, since: date | None, batch: int = 5000) -> Iterator[MetricEvent]:
        stmt = select(MetricEvent).order_by(MetricEvent.id)
        if since is not None:
            stmt = stmt.where(MetricEvent.local_date >= since)
        yield from self.session.scalars(stmt.execution_options(yield_per=batch))

    def delete_rollups_since(self, since: date | None) -> int:
        stmt = delete(DailyRollup)
        if since is not None:
            stmt = stmt.where(DailyRollup.day >= since)
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def rollups(
        self, first: date, last: date, dim_type: DimType, metrics: list[str], dim_id: str | None = None
    ) -> list[DailyRollup]:
        stmt = select(DailyRollup).where(
            DailyRollup.day >= first,
            DailyRollup.day <= last,
            DailyRollup.dim_type == dim_type.value,
            DailyRollup.metric.in_(metrics),
        )
        if dim_id is not None:
            stmt = stmt.where(DailyRollup.dim_id == dim_id)
        return list(self.session.scalars(stmt))

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
