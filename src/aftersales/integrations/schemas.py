"""Pydantic shapes of the integrations context."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from aftersales.integrations.domain import DeliveryResult, Platform


class ImportLine(BaseModel):
    """One order an import touched: what the CLI prints, one JSON object a line."""

    file: str = ""
    order_number: str
    status: str
    result: str


class IntegrationIn(BaseModel):
    platform: Platform
    merchant_code: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=120)]
    # The platform's own secret where it issues one (Shopify's app secret, BigCommerce's client
    # secret); empty: one is made here, to paste into the platform (WooCommerce, Saleor).
    secret: Annotated[str, Field(max_length=200)] = ""
    api_base_url: Annotated[str, Field(max_length=300, pattern=r"^(https?://[^\s]+)?$")] = ""
    api_token: Annotated[str, Field(max_length=200)] = ""
    zone: Annotated[str, Field(max_length=64)] = "UTC"
    number_prefix: Annotated[str, Field(max_length=16, pattern=r"^[A-Za-z0-9_.:\-]*$")] = ""

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"'{value}' is not a time zone (e.g. Asia/Shanghai, Europe/Berlin, UTC)") from exc
        return value


class IntegrationCreated(BaseModel):
    id: int
    platform: str
    merchant_code: str
    webhook_url: str
    secret: str = Field(description="shown this once; only its last four characters are kept in view")


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    topic: str
    result: DeliveryResult
    order_numbers: str
    error: str
    attempts: int
    received_at: datetime


class IntegrationOut(BaseModel):
    id: int
    platform: str
    merchant_code: str
    name: str
    secret_hint: str
    api_base_url: str
    zone: str
    number_prefix: str
    active: bool
    created_at: datetime
    last_delivery: DeliveryOut | None
    failures: list[DeliveryOut]


class WebhookAnswer(BaseModel):
    event_id: str
    result: str = Field(description="created, updated, unchanged, duplicate (a known event id) or ping")
    orders: list[ImportLine] = []
