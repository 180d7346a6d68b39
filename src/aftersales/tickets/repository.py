"""Every query of the tickets context; reads that serve a person are scoped by the principal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, false, func, or_, select

from aftersales.db.repository import Repository, interval_index, locked
from aftersales.kit.access import Principal, Role
from aftersales.tickets.domain import ACTIVE, DESK_ROLES, TicketStatus
from aftersales.tickets.models import (
    ClassificationCorrection,
    Macro,
    Mention,
    Ticket,
    TicketAttachment,
    TicketLink,
    TicketMessage,
    TicketViewer,
)

ACTIVE_VALUES = [s.value for s in ACTIVE]


def scope_tickets(stmt: Select[Any], viewer: Principal) -> Select[Any]:
    if viewer.role in DESK_ROLES or viewer.role is Role.ARBITRATOR:
        return stmt
    if viewer.role is Role.CUSTOMER:
        return stmt.where(Ticket.customer_id == viewer.customer_id) if viewer.customer_id else stmt.where(false())
    if viewer.role is Role.MERCHANT:
        # A POP merchant sees the tickets about its own orders.
        return stmt.where(Ticket.merchant_id == viewer.merchant_id) if viewer.merchant_id else stmt.where(false())
    if viewer.role is Role.INTEGRATION:
        # A platform-wide integration reads every ticket; one bound to a merchant only that merchant's.
        return stmt if viewer.merchant_id is None else stmt.where(Ticket.merchant_id == viewer.merchant_id)
    return stmt.where(false())


# by_number has the same shape as CasesRepository's on purpose: each repository reads its own table.
class TicketsRepository(Repository):
    # --- tickets ----------------------------------------------------------------------------------
    def by_number(self, number: str, viewer: Principal, *, lock: bool = False) -> Ticket | None:
        """With `lock`, the ticket row stays locked (see `locked`)."""
        stmt = scope_tickets(select(Ticket).where(Ticket.number == number), viewer)
        if lock:
            stmt = locked(stmt, Ticket)
        ticket: Ticket | None = self.session.scalar(stmt)
        return ticket

    def by_number_unscoped(self, number: str) -> Ticket | None:
        ticket: Ticket | None = self.session.scalar(select(Ticket).where(Ticket.number == number))
        return ticket

    def by_id(self, ticket_id: int) -> Ticket | None:
        return self.session.get(Ticket, ticket_id)

    def by_external_key(self, key: str) -> Ticket | None:
        ticket: Ticket | None = self.session.scalar(select(Ticket).where(Ticket.external_key == key))
        return ticket

    def active_for_order(self, order_number: str) -> Ticket | None:
        """The newest ticket about this order that is still being worked on (new, open, pending)."""
        ticket: Ticket | None = self.session.scalar(
            select(Ticket)
            .where(Ticket.order_number == order_number, Ticket.status.in_(list(ACTIVE_VALUES)))
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return ticket

    def active_for_conversation(self, conversation_id: int) -> Ticket | None:
        ticket: Ticket | None = self.session.scalar(
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id, Ticket.status.in_([*ACTIVE_VALUES, "solved"]))
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return ticket

    def by_email_message_ids(self, message_ids: list[str]) -> Ticket | None:
        """The ticket an email answers: the one holding any Message-ID it refers to."""
        if not message_ids:
            return None
        ticket: Ticket | None = self.session.scalar(
            select(Ticket)
            .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
            .where(TicketMessage.email_message_id.in_(message_ids))
            .order_by(TicketMessage.id.desc())
            .limit(1)
        )
        return ticket

    def email_participants(self, ticket_id: int) -> set[str]:
        """Addresses that wrote into the ticket by email, or were copied (To/Cc) on those mails."""
        found: set[str] = set()
        rows = self.session.execute(
            select(TicketMessage.email_from, TicketMessage.email_recipients).where(
                TicketMessage.ticket_id == ticket_id, TicketMessage.kind == "customer"
            )
        ).all()
        for sender, copied in rows:
            found.update(a for a in [sender, *(copied or [])] if a)
        return found

    def email_message_exists(self, message_id: str) -> bool:
        return (
            self.session.scalar(select(TicketMessage.id).where(TicketMessage.email_message_id == message_id))
            is not None
        )

    def search(
        self,
        viewer: Principal,
        *,
        statuses: list[str] | None = None,
        assignee_user_id: int | None = None,
        unassigned: bool = False,
        group_key: str = "",
        customer_id: int | None = None,
        text: str = "",
        page: int = 1,
        size: int = 50,
    ) -> tuple[list[Ticket], int]:
        stmt = scope_tickets(select(Ticket), viewer)
        if statuses:
            stmt = stmt.where(Ticket.status.in_(statuses))
        if assignee_user_id is not None:
            stmt = stmt.where(Ticket.assignee_user_id == assignee_user_id)
        if unassigned:
            stmt = stmt.where(Ticket.assignee_user_id.is_(None))
        if group_key:
            stmt = stmt.where(Ticket.group_key == group_key)
        if customer_id is not None:
            stmt = stmt.where(Ticket.customer_id == customer_id)
        if text:
            like = f"%{text}%"
            stmt = stmt.where(
                or_(
                    Ticket.number == text,
                    Ticket.order_number == text,
                    Ticket.subject.like(like),
                    Ticket.requester_name.like(like),
                    Ticket.requester_email == text,
                )
            )
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.session.scalars(
            stmt.order_by(Ticket.updated_at.desc(), Ticket.id.desc()).offset((page - 1) * size).limit(size)
        ).all()
        return list(rows), total

    def visible_by_ids(self, ids: list[int], viewer: Principal) -> list[Ticket]:
        """These tickets in the given order, as far as the viewer may see them."""
        if not ids:
            return []
        found = {t.id: t for t in self.session.scalars(scope_tickets(select(Ticket).where(Ticket.id.in_(ids)), viewer))}
        return [found[i] for i in ids if i in found]

    def recent_for_customer(self, customer_id: int, exclude_id: int, limit: int, viewer: Principal) -> list[Ticket]:
        return list(
            self.session.scalars(
                scope_tickets(select(Ticket), viewer)
                .where(Ticket.customer_id == customer_id, Ticket.id != exclude_id)
                .order_by(Ticket.created_at.desc())
                .limit(limit)
            ).all()
        )

    def complaints_since(self, customer_id: int, since: datetime) -> int:
        return (
            self.session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.customer_id == customer_id,
                    Ticket.ticket_type.in_(["complaint", "dispute"]),
                    Ticket.created_at >= since,
                )
            )
            or 0
        )

    def numbers_by_id(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        return dict(self.session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).tuples().all())

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).tuples().all()
        return dict(rows)

    # --- messages, attachments -----------------------------------------------------------------------
    def messages(self, ticket_id: int, include_notes: bool) -> list[TicketMessage]:
        stmt = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
        if not include_notes:
            stmt = stmt.where(TicketMessage.kind.in_(["customer", "reply", "system"]))
        return list(self.session.scalars(stmt.order_by(TicketMessage.id)).all())

    def public_repliers(self, ticket_id: int) -> list[int]:
        """Every agent who answered the customer in public on the ticket, first reply first."""
        stmt = (
            select(TicketMessage.author_user_id, func.min(TicketMessage.id))
            .where(
                TicketMessage.ticket_id == ticket_id,
                TicketMessage.kind == "reply",
                TicketMessage.author_user_id.is_not(None),
            )
            .group_by(TicketMessage.author_user_id)
            .order_by(func.min(TicketMessage.id))
        )
        return [int(user_id) for user_id, _ in self.session.execute(stmt) if user_id is not None]

    def attachment(self, ticket_id: int, attachment_id: int) -> TicketAttachment | None:
        found: TicketAttachment | None = self.session.scalar(
            select(TicketAttachment).where(
                TicketAttachment.id == attachment_id, TicketAttachment.ticket_id == ticket_id
            )
        )
        return found

    def last_outbound_email_id(self, ticket_id: int) -> list[str]:
        return [
            m
            for m in self.session.scalars(
                select(TicketMessage.email_message_id)
                .where(TicketMessage.ticket_id == ticket_id, TicketMessage.email_message_id.is_not(None))
                .order_by(TicketMessage.id)
            ).all()
            if m
        ]

    # --- links ----------------------------------------------------------------------------------------
    def links(self, ticket_id: int) -> list[TicketLink]:
        return list(
            self.session.scalars(
                select(TicketLink).where(
                    or_(TicketLink.ticket_id == ticket_id, TicketLink.other_ticket_id == ticket_id)
                )
            ).all()
        )

    def link_exists(self, a: int, b: int) -> bool:
        return (
            self.session.scalar(
                select(TicketLink.id).where(
                    or_(
                        (TicketLink.ticket_id == a) & (TicketLink.other_ticket_id == b),
                        (TicketLink.ticket_id == b) & (TicketLink.other_ticket_id == a),
                    )
                )
            )
            is not None
        )

    # --- corrections, macros, mentions, viewers ---------------------------------------------------------
    def corrections(self, limit: int = 5000) -> list[ClassificationCorrection]:
        return list(
            self.session.scalars(
                select(ClassificationCorrection).order_by(ClassificationCorrection.id.desc()).limit(limit)
            ).all()
        )

    def count_classified(self) -> int:
        return self.session.scalar(select(func.count(Ticket.id)).where(Ticket.responsibility != "")) or 0

    def macros(self, active_only: bool = True) -> list[Macro]:
        stmt = select(Macro)
        if active_only:
            stmt = stmt.where(Macro.active.is_(True))
        return list(self.session.scalars(stmt.order_by(Macro.key)).all())

    def macro(self, macro_id: int) -> Macro | None:
        return self.session.get(Macro, macro_id)

    def macro_keys(self) -> set[str]:
        return set(self.session.scalars(select(Macro.key)).all())

    def unseen_mentions(self, user_id: int, limit: int = 20) -> list[tuple[Mention, str]]:
        rows = self.session.execute(
            select(Mention, Ticket.number)
            .join(Ticket, Ticket.id == Mention.ticket_id)
            .where(Mention.user_id == user_id, Mention.seen.is_(False))
            .order_by(Mention.id.desc())
            .limit(limit)
        ).tuples()
        return list(rows.all())

    def mark_mentions_seen(self, user_id: int, ticket_id: int) -> None:
        for mention in self.session.scalars(
            select(Mention).where(Mention.user_id == user_id, Mention.ticket_id == ticket_id, Mention.seen.is_(False))
        ):
            mention.seen = True

    def viewer(self, ticket_id: int, user_id: int) -> TicketViewer | None:
        found: TicketViewer | None = self.session.scalar(
            select(TicketViewer).where(TicketViewer.ticket_id == ticket_id, TicketViewer.user_id == user_id)
        )
        return found

    def viewers_since(self, ticket_id: int, since: datetime) -> list[TicketViewer]:
        return list(
            self.session.scalars(
                select(TicketViewer)
                .where(TicketViewer.ticket_id == ticket_id, TicketViewer.seen_at >= since)
                .order_by(TicketViewer.display_name)
            ).all()
        )

    def forget_viewer(self, ticket_id: int, user_id: int) -> None:
        self.session.execute(
            delete(TicketViewer).where(TicketViewer.ticket_id == ticket_id, TicketViewer.user_id == user_id)
        )

    def status_of(self, ticket_id: int) -> TicketStatus | None:
        value = self.session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
        return TicketStatus(value) if value else None

    def arrivals_per_interval(self, since: datetime, until: datetime, seconds: int) -> list[tuple[int, str, str, int]]:
        index = interval_index(self.session, Ticket.created_at, since, seconds)
        stmt = (
            select(index, Ticket.group_key, Ticket.channel, func.count())
            .where(Ticket.created_at >= since, Ticket.created_at < until)
            .group_by(index, Ticket.group_key, Ticket.channel)
        )
        return [(int(i), group, channel, n) for i, group, channel, n in self.session.execute(stmt)]

    def agent_reply_count(self, ticket_id: int) -> int:
        stmt = select(func.count()).where(TicketMessage.ticket_id == ticket_id, TicketMessage.kind == "reply")
        return int(self.session.scalar(stmt) or 0)

    def open_created_at(self, limit: int) -> list[datetime]:
        """When each ticket still waiting on the desk arrived (new, open, pending), oldest first."""
        stmt = (
            select(Ticket.created_at)
            .where(Ticket.status.in_(["new", "open", "pending"]))
            .order_by(Ticket.created_at)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
