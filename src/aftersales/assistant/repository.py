"""Every query of the assistant's conversations; reads for a customer are scoped to that customer."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from aftersales.assistant.models import ChatMessage, Conversation
from aftersales.db.repository import Repository
from aftersales.kit.access import Principal, Role

OPEN = ("bot", "waiting_human", "with_human")


class ConversationsRepository(Repository):
    def for_viewer(self, conversation_id: int, viewer: Principal) -> Conversation | None:
        """The conversation if the viewer may see it: its customer, or platform staff."""
        stmt = select(Conversation).where(Conversation.id == conversation_id)
        if viewer.role is Role.CUSTOMER:
            if viewer.customer_id is None:
                return None
            stmt = stmt.where(Conversation.customer_id == viewer.customer_id)
        elif not viewer.is_platform_staff:
            return None
        conversation: Conversation | None = self.session.scalar(stmt)
        return conversation

    def by_id(self, conversation_id: int, *, lock: bool = False) -> Conversation | None:
        stmt = select(Conversation).where(Conversation.id == conversation_id)
        if lock:
            stmt = stmt.with_for_update()
        conversation: Conversation | None = self.session.scalar(stmt)
        return conversation

    def latest_open(self, customer_id: int) -> Conversation | None:
        conversation: Conversation | None = self.session.scalar(
            select(Conversation)
            .where(Conversation.customer_id == customer_id, Conversation.status.in_(OPEN))
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            .limit(1)
        )
        return conversation

    def messages(self, conversation_id: int, *, after_id: int = 0, limit: int = 500) -> Sequence[ChatMessage]:
        """The latest `limit` messages after `after_id`, oldest first."""
        newest = (
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id > after_id)
            .order_by(ChatMessage.id.desc())
            .limit(limit)
            .subquery()
        )
        rows = self.session.scalars(select(ChatMessage).join(newest, ChatMessage.id == newest.c.id))
        return sorted(rows, key=lambda m: m.id)

    def latest(self, conversation_id: int) -> ChatMessage | None:
        message: ChatMessage | None = self.session.scalar(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id.desc())
            .limit(1)
        )
        return message

    def count_messages(self, conversation_id: int) -> int:
        return (
            self.session.scalar(
                select(func.count(ChatMessage.id)).where(ChatMessage.conversation_id == conversation_id)
            )
            or 0
        )

    def agent_message_seen(self, conversation_id: int, source_id: str) -> bool:
        """Whether an agent's reply (by the tickets context's message id) is already stored."""
        rows = self.session.scalars(
            select(ChatMessage.entities).where(
                ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "agent"
            )
        )
        return any(str((entities or {}).get("source_id", "")) == source_id for entities in rows)
