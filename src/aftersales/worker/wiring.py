"""The composition of every process (web app, worker, mail-in): each context's outbox subscriptions,
the ports one context fills for another, and committed transactions connected to the queue (when
an outbox row commits, the worker is kicked)."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

# Every table on the metadata: a refund's foreign keys point at orders and cases, and SQLAlchemy
# resolves them when it flushes, also in a process that never imported the cases context.
import aftersales.models  # noqa: F401
from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.messaging import live
from aftersales.messaging.models import OutboxMessage

log = structlog.get_logger(__name__)
_connected = False


def _after_flush(session: Session, _ctx: Any) -> None:
    if any(isinstance(obj, OutboxMessage) for obj in session.new):
        session.info["outbox_dirty"] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop("outbox_dirty", False):
        return
    try:
        from aftersales.worker.tasks import drain_outbox

        drain_outbox()
    except Exception as exc:  # the periodic drain still delivers; never fail the request
        log.warning("outbox.kick_failed", error=repr(exc))


def register_handlers() -> None:
    """Every context's outbox subscriptions and the facts help articles quote; the web app and
    each worker process call this."""
    from aftersales.analytics import handlers as analytics_handlers
    from aftersales.assistant import handlers as assistant_handlers
    from aftersales.cases import handlers as cases_handlers
    from aftersales.disputes import handlers as disputes_handlers
    from aftersales.knowledge import service as knowledge
    from aftersales.notifications import handlers as notifications_handlers
    from aftersales.orders import service as orders
    from aftersales.proactive import service as proactive
    from aftersales.refunds import handlers as refunds_handlers
    from aftersales.sla import service as sla
    from aftersales.surveys import handlers as surveys_handlers
    from aftersales.tickets import handlers as tickets_handlers
    from aftersales.wallet import handlers as wallet_handlers
    from aftersales.wallet import service as wallet

    cases_handlers.register()
    refunds_handlers.register()
    disputes_handlers.register()
    notifications_handlers.register()
    tickets_handlers.register()
    assistant_handlers.register()
    wallet_handlers.register()
    # Analytics hears the others' events and files them as metric events (docs/analytics.md).
    analytics_handlers.register()
    surveys_handlers.register()
    # The help center quotes the SLA policy's targets instead of writing numbers of its own.
    knowledge.register_facts("sla", sla.help_facts)
    # And the delivery promise the orders context stamps on shipments.
    knowledge.register_facts("delivery", orders.delivery_facts)
    # And the lateness compensation the wallet pays by the compensation policies.
    knowledge.register_facts("wallet", wallet.help_facts)
    # And the thresholds after which proactive service tells a customer of trouble.
    knowledge.register_facts("proactive", proactive.help_facts)


def bind_ports() -> None:
    """What a context offers another without the other importing it: the rules' dry run against a
    real order line takes its facts from cases (cases decide with rules, so rules cannot import cases)."""
    from aftersales.cases import service as cases
    from aftersales.disputes import service as disputes
    from aftersales.notifications import service as notifications
    from aftersales.rules import service as rules

    rules.provide_order_facts(cases.dry_run_facts)
    # A case page offers "ask the platform to step in" by the disputes' own rule.
    cases.provide_escalation_offer(disputes.escalation_offered)
    # A refusal's notice tells the buyer the window in which the platform may be asked to step in.
    notifications.provide_notice_facts(disputes.notice_facts)
    # A settled refund's notice names the shipping share it carries, from the case's lines.
    notifications.provide_notice_facts(cases.refund_notice_facts)


def connect(settings: Settings, db: Database) -> None:
    global _connected
    register_handlers()
    bind_ports()
    live.configure(settings.live_redis_url)
    if _connected:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    _connected = True
