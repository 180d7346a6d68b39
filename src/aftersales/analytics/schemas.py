"""What the analytics context hands out: KPI rows of a dashboard and the events behind a number."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class KpiRow(BaseModel):
    key: str  # the dimension's id, or the day (ISO) in a daily series
    label: str
    contacts: int
    tickets: int
    resolved: int
    frt_p50_s: float | None
    frt_p90_s: float | None
    resolution_p50_s: float | None
    resolution_p90_s: float | None
    sla_percent: float | None
    one_touch_percent: float | None
    fcr_percent: float | None
    reopen_percent: float | None
    deflection_percent: float | None
    contacts_per_order: float | None
    bot_handoffs: int
    refunds_paid: int
    deliveries: int
    csat_responses: int


class Dashboard(BaseModel):
    first: date
    last: date
    dim: str
    total: KpiRow
    rows: list[KpiRow]
    days: list[KpiRow]
    backlog: list[int]  # open tickets by age band (domain.AGE_BANDS_HOURS)


class DrillRow(BaseModel):
    occurred_at: datetime
    metric: str
    subject_type: str
    subject_ref: str
    ticket_number: str
    value_s: float
    value_business_s: float
    channel: str
    team: str
