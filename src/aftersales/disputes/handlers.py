"""Reactions of the disputes context to other contexts' events (delivered by the outbox)."""

from __future__ import annotations

from aftersales.db.uow import configured_database
from aftersales.disputes import service
from aftersales.disputes.events import DisputeAppealDecided, DisputeRuled
from aftersales.messaging.outbox import on
from aftersales.refunds.events import RefundSettled

# Same shape as cases.handlers on purpose: each context hands the events to its own service.
_registered = False


def _refund_settled(event: RefundSettled, _key: str) -> None:
    # A ruling's refund carries its dispute's case; the dispute finds it by the refund's id.
    service.on_refund_settled(configured_database(), event.refund_id, event.status == "succeeded")


def _ruled(event: DisputeRuled, key: str) -> None:
    service.tell_merchant(configured_database(), event.merchant_id, "staff.dispute_ruled", event.dispute_number, key)


def _appeal_decided(event: DisputeAppealDecided, key: str) -> None:
    db = configured_database()
    service.tell_merchant(db, event.merchant_id, "staff.dispute_appeal_decided", event.dispute_number, key)


def register() -> None:
    global _registered
    if not _registered:
        on(RefundSettled, _refund_settled)
        on(DisputeRuled, _ruled)
        on(DisputeAppealDecided, _appeal_decided)
        _registered = True
