"""Conversations with the assistant and their messages (the transcript a hand-off carries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_customer_updated", "customer_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    user_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    status: Mapped[str] = mapped_column(String(16), default="bot")  # bot, waiting_human, with_human, closed
    # The dialogue's current flow and filled slots, so a conversation survives restarts.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    handed_off_to: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(16))  # customer, bot, agent
    sender_name: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(32), default="")
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LearningConsent(Base):
    """The customer's answer to "may this conversation be used to improve the assistant?"; no row
    means not asked or not answered, which counts as no."""

    __tablename__ = "chat_learning_consents"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    consented: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LearningExample(Base):
    """A customer's message with the intent the bot gave it and the one a person says it was: kept
    from a hand-off or an agent's correction, with the customer's consent, and trained on once a
    supervisor approves it (`aftersales assistant retrain`)."""

    __tablename__ = "chat_learning_examples"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_chat_learning_examples_message"),
        Index("ix_chat_learning_examples_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    predicted_intent: Mapped[str] = mapped_column(String(32), default="")
    corrected_intent: Mapped[str] = mapped_column(String(32), default="")  # empty until a person labels it
    source: Mapped[str] = mapped_column(String(16))  # handoff, agent_correction
    status: Mapped[str] = mapped_column(String(16))  # unlabelled, pending, approved, rejected
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the customer agreed
    labelled_by: Mapped[str] = mapped_column(String(120), default="")
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str] = mapped_column(String(120), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
