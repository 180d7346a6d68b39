"""Pydantic shapes of the notifications context."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, computed_field


class InboxItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    subject: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unread(self) -> bool:
        return self.read_at is None


class InboxPage(BaseModel):
    items: list[InboxItem]
    total: int
    page: int
    pages: int
    unread: int


class UnreadCount(BaseModel):
    unread: int


class NotifyResult(BaseModel):
    """What notify() left behind for an event: the inbox message, the email if any, and whether
    this call created them (False when the event had been handled before)."""

    inbox_id: int
    email_id: int | None
    created: bool


class SendReport(BaseModel):
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # The relay could not be reached at all (connection refused, timed out, login refused).
    unreachable: bool = False

    @property
    def tried(self) -> int:
        return self.sent + self.retrying + self.failed
