"""Every context's tables on one metadata, for migrations and tests (the composition root's view)."""

from __future__ import annotations

import aftersales.analytics.models
import aftersales.assistant.models
import aftersales.cases.models
import aftersales.db.refcache
import aftersales.disputes.models
import aftersales.identity.models
import aftersales.integrations.models
import aftersales.knowledge.models
import aftersales.messaging.models
import aftersales.notifications.models
import aftersales.orders.models
import aftersales.proactive.models
import aftersales.refunds.models
import aftersales.routing.models
import aftersales.rules.models
import aftersales.scheduling.models
import aftersales.sla.models
import aftersales.surveys.models
import aftersales.tickets.models
import aftersales.timeline.models
import aftersales.wallet.models  # noqa: F401
from aftersales.db.base import Base

metadata = Base.metadata
