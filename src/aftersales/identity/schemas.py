"""Identity shapes for the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from aftersales.kit.access import Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    customer_id: int | None
    merchant_id: int | None
    active: bool
    locale: str
    created_at: datetime
    last_login_at: datetime | None


class MeOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: Role
    customer_id: int | None
    merchant_id: int | None


class IssuedToken(BaseModel):
    token: str
    prefix: str
    user: str
    scopes: list[str] = []
