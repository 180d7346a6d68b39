"""The outreach governor in the demo: Emma agreed to offers by email when she ordered (the proof
shows on her /account/messages as a ticked box), and 李娜 keeps proactive notices in the inbox only."""

from __future__ import annotations

from aftersales.db.uow import Database
from aftersales.kit.vocabulary import MessageClass
from aftersales.notifications import service as notifications
from aftersales.orders import service as shop


def seed_outreach(db: Database) -> int:
    """Record the demo buyers' choices through the services; returns how many choices it wrote."""
    written = 0
    emma = shop.customer_id_for(db, "C0002")
    if emma is not None:
        notifications.record_consent(
            db, emma, "email", granted=True, wording_version="checkout-2026-10", source="checkout", by="emma"
        )
        written += 1
    lina = shop.customer_id_for(db, "C0001")
    if lina is not None:
        notifications.set_outreach_choice(
            db, lina, MessageClass.SERVICE_PROACTIVE.value, "email", opted_out=True, source="account"
        )
        written += 1
    return written
