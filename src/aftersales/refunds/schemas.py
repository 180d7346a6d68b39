"""Pydantic shapes of refunds: what the service hands out and what the gateway calls back with."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class RefundOut(BaseModel):
    """A refund as the other contexts and the staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    order_number: str
    case_id: int | None
    amount: Decimal
    currency: str
    reason: str
    idempotency_key: str
    payment_reference: str
    status: str
    gateway_ref: str
    attempts: int
    last_error: str
    requested_at: datetime
    next_attempt_at: datetime | None
    submitted_at: datetime | None
    settled_at: datetime | None


class RefundPublic(BaseModel):
    """A refund as anyone who may see the order sees it: no keys, no gateway errors."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    order_number: str
    case_id: int | None
    amount: Decimal
    currency: str
    reason: str
    status: str
    requested_at: datetime
    submitted_at: datetime | None
    settled_at: datetime | None


class GatewayCallbackIn(BaseModel):
    """The gateway's asynchronous confirmation. `idempotency_key` (our key, echoed back the way
    Alipay's out_request_no or WeChat Pay's out_refund_no is) lets a confirmation that overtakes the
    acknowledgement still find its refund."""

    gateway_ref: Annotated[str, Field(min_length=1, max_length=80)]
    status: Literal["succeeded", "failed"]
    idempotency_key: Annotated[str | None, Field(max_length=120)] = None


class GatewayCallbackResult(BaseModel):
    gateway_ref: str
    status: str = Field(description="the refund's status after the callback")
