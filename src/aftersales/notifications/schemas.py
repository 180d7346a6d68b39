"""Pydantic shapes of the notifications context."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field


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
    this call created them (False when the event had been handled before). A governed message
    (service-proactive, marketing) may also be deferred, held for a digest or refused: `outcome`
    and `reason` say which and why, and no inbox message exists yet (or, when the buyer turned the
    in-app channel off, ever)."""

    inbox_id: int | None
    email_id: int | None
    created: bool
    outcome: str = "send"  # send, defer, digest, refuse (governor.Action)
    reason: str = ""  # governor.Reason


class OutreachDecisionOut(BaseModel):
    """One decision of the outreach governor, as a merchant or the buyer's agent sees it."""

    decided_at: datetime
    customer_id: int
    message_class: str
    action: str
    reason: str
    explanation: str  # the reason in the reader's language
    subject: str
    order_number: str


class OutreachChoice(BaseModel):
    message_class: str = Field(max_length=24, description="service_proactive or marketing")
    channel: str = Field(max_length=8, description="inapp, email or sms")
    opted_out: bool


class ConsentIn(BaseModel):
    """Proof of a buyer's consent to marketing: the channel, the wording's version and where it was
    given; who recorded it is the caller."""

    customer_id: int = Field(ge=1, le=2**31 - 1)
    channel: str = Field(max_length=8, description="inapp, email or sms")
    granted: bool = True
    wording_version: str = Field(min_length=1, max_length=64)
    source: str = Field(default="checkout", max_length=32)


class ReleaseReport(BaseModel):
    sent: int = 0  # messages that went (a digest counts once)
    merged: int = 0  # messages that went inside a digest
    refused: int = 0
    deferred: int = 0


class SendReport(BaseModel):
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # The relay could not be reached at all (connection refused, timed out, login refused).
    unreachable: bool = False

    @property
    def tried(self) -> int:
        return self.sent + self.retrying + self.failed


class SmsReport(BaseModel):
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dead: int = 0  # proactive notices that could not go within 24 hours
