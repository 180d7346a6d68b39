"""Input and output of the wallet context."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Ref = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
]


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    code: str
    value: Decimal
    currency: str
    status: str  # as of now: an issued entry past its expiry reads expired
    issued_at: datetime
    expires_at: datetime
    source_kind: str
    source_ref: str
    trigger: str
    reason: str
    order_number: str


class WalletOut(BaseModel):
    customer_id: int
    entries: list[EntryOut]
    usable_total: Decimal  # the value of entries still usable, in the wallet's currency
    currency: str


class OfferIn(BaseModel):
    """An agent's goodwill coupon on an order, once per ticket (or the order when no ticket)."""

    model_config = ConfigDict(extra="forbid")

    order_number: Ref
    ticket_number: Ref | None = None
    amount: Annotated[Decimal, Field(gt=0, le=10_000, max_digits=9, decimal_places=2)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class VipOfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_number: Ref


class ForceMajeureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class ForceMajeureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    region: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    declared_by: str


class Compensation(BaseModel):
    """What lateness compensation did for one delivered order."""

    outcome: Literal["issued", "already_issued", "none"]
    order_number: str
    reason: str = ""  # why none was due (the policies' words, English)
    entry: EntryOut | None = None
