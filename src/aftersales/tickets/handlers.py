"""Reactions of the tickets context to other contexts' events (delivered by the outbox)."""

from __future__ import annotations

from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import on
from aftersales.routing.events import WorkAssigned
from aftersales.sla.events import SlaBreached, SlaWarning
from aftersales.tickets import service
from aftersales.tickets.email import replies
from aftersales.tickets.events import PublicReplied

_registered = False


def _sla_warning(event: SlaWarning, _key: str) -> None:
    service.on_sla_warning(configured_database(), event.subject_id, event.metric)


def _sla_breached(event: SlaBreached, key: str) -> None:
    service.on_sla_breached(configured_database(), event.subject_id, event.metric, key)


def _assigned(event: WorkAssigned, _key: str) -> None:
    if event.kind == "ticket":
        service.on_assigned(configured_database(), event.ref, event.user_id or None, event.group_key)
        if event.by_user_id:
            service.on_reassigned(
                configured_database(), event.ref, event.by_user_id, event.from_user_id, event.user_id, event.note
            )


def _public_reply(event: PublicReplied, key: str) -> None:
    """An agent's public reply on an email ticket goes to the requester by SMTP, once per event
    (replies.send_reply; it raises to have the outbox try again while the relay is away)."""
    if event.channel == "email" and event.message_id:
        replies.send_reply(configured_database(), event.message_id, key)


def register() -> None:
    global _registered
    if not _registered:
        on(SlaWarning, _sla_warning)
        on(SlaBreached, _sla_breached)
        on(WorkAssigned, _assigned)
        on(PublicReplied, _public_reply)
        _registered = True
