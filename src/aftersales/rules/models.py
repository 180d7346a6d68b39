"""Policies are data: one row per policy, validated against rules.domain before it is saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db import refcache
from aftersales.db.base import Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(24), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Lower numbers are evaluated first.
    priority: Mapped[int] = mapped_column(Integer, default=100)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # A merchant's own policy applies to that merchant's orders only.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    # {"when": <condition>, "then": <outcome>} as rules.domain defines them.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120), default="system")

    __mapper_args__ = {"version_id_col": version}


# The enabled policies are cached per process (rules.service.active_rules); any write to a policy
# changes the area's version, so every process reads them afresh (aftersales.db.refcache).
refcache.watch("rules", Policy)
