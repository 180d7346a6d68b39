"""Output shapes of the proactive context."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_number: str
    kind: str
    episode: str
    state: str
    first_signal_at: datetime
    detected_at: datetime
    notified_at: datetime | None = None
    resolved_at: datetime | None = None
    eta_at: datetime | None = None
    next_checkpoint: str = ""
    detail: dict[str, str] = Field(default_factory=dict)
    ticket_number: str = ""

    @property
    def minutes_to_notice(self) -> int | None:
        """Time to notice: notified − first signal, in whole minutes."""
        if self.notified_at is None:
            return None
        return max(int((self.notified_at - self.first_signal_at).total_seconds() // 60), 0)


class ScanResult(BaseModel):
    taken_in: int = 0  # orders whose change the intake saw
    checked: int = 0  # watches read because they were due
    resolved: int = 0
    notified: int = 0
    tickets: int = 0
    incidents: list[IncidentOut] = Field(default_factory=list)  # new this run


class NoticeView(BaseModel):
    """The notice page: the incident with its answer and the one-tap actions that work now."""

    incident: IncidentOut
    headline: str
    what: str
    eta: str
    next_checkpoint: str
    actions: list[str]
    order_status: str
    recipient_name: str = ""
    recipient_phone: str = ""
    address_region: str = ""
    address_detail: str = ""
