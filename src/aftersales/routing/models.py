"""Skill groups, agent profiles, memberships, routed work and its append-only transfer history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db import refcache
from aftersales.db.base import Amount, Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class SkillGroup(Base):
    __tablename__ = "routing_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(4))
    # Problem types, categories or brands this group answers for (how new work finds it).
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set for a POP merchant's own queue; a plain id so routing does not lean on orders' tables.
    merchant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    escalation_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentProfile(Base):
    __tablename__ = "routing_agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    # Copied from the account when the profile is made or synced, so overviews need no join
    # into the identity context.
    username: Mapped[str] = mapped_column(String(40), default="")
    display_name: Mapped[str] = mapped_column(String(120), default="")
    tier: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(8), default="offline")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_chats: Mapped[int] = mapped_column(Integer, default=5)
    max_tickets: Mapped[int] = mapped_column(Integer, default=20)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_total: Mapped[int] = mapped_column(Integer, default=0)
    # Counts administrators' edits of the settings only: taking work or switching status must
    # not make an open settings form stale. Concurrent assignments are kept apart by row locks.
    version: Mapped[int] = mapped_column(Integer, default=1)


class GroupMembership(Base):
    __tablename__ = "routing_memberships"
    __table_args__ = (UniqueConstraint("group_id", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("routing_groups.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("routing_agents.id", ondelete="CASCADE"), index=True)


class WorkItem(Base):
    """A ticket or chat that routing places; `ref` is the other context's number or id."""

    __tablename__ = "routing_work"
    __table_args__ = (
        UniqueConstraint("kind", "ref"),
        Index("ix_routing_work_state_group", "state", "group_key"),
        Index("ix_routing_work_assignee_state", "assigned_to", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(String(64))
    required_skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    order_value: Mapped[Decimal | None] = mapped_column(Amount)
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(64))
    problem_type: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_to: Mapped[int | None] = mapped_column(Integer)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Agents who handed this work on: it is not given straight back to them.
    passed_over: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Counts assignments, so each "routing.assigned" message has its own idempotency key.
    assignments: Mapped[int] = mapped_column(Integer, default=0)


class WorkTransfer(Base):
    """Append-only: every transfer, escalation and reassignment with who, when and why."""

    __tablename__ = "routing_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("routing_work.id", ondelete="CASCADE"), index=True)
    move: Mapped[str] = mapped_column(String(12))
    from_user_id: Mapped[int | None] = mapped_column(Integer)
    to_user_id: Mapped[int | None] = mapped_column(Integer)
    from_group: Mapped[str] = mapped_column(String(64))
    to_group: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# Groups and memberships are cached per process (routing.views.group_snapshots); any write to them
# changes the area's version, so every process reads them afresh (aftersales.db.refcache).
refcache.watch("routing", SkillGroup, GroupMembership)
