"""Words several contexts share (a shared kernel, like kit.access): each is defined here once.

The owning context re-exports its words (tickets.domain: TicketType, Priority; tickets.taxonomy:
SCENARIO_GROUPS; cases.domain: CaseKind, CaseReason) and keeps the rules about them. Contexts
below the owner in the context map (rules, sla, routing) cannot import the owner, so they import these words from here.
See docs/decisions/0020-typed-events-and-shared-words.md.
"""

from __future__ import annotations

from enum import StrEnum


# Enums alike on purpose (the StrEnum pattern): each is a word of its own, see the docstring above.
class TicketType(StrEnum):
    """A ticket's type; owned by tickets, also read by the SLA matrix and the rules."""

    CONSULTATION = "consultation"
    COMPLAINT = "complaint"
    DISPUTE = "dispute"


class Priority(StrEnum):
    """A ticket's priority, lowest first; owned by tickets, also read by sla, routing and rules."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


# The groups a ticket's scenario belongs to (the first part of its id, "product.defect"); owned by
# tickets (taxonomy.yaml is checked against them), also read by the rules' conditions.
SCENARIO_GROUPS = ("product", "service", "experience", "consultation", "other")


class CaseKind(StrEnum):
    """What the customer asks for; owned by cases, also read by the rules' conditions."""

    REFUND_ONLY = "refund_only"  # 仅退款
    RETURN_REFUND = "return_refund"  # 退货退款
    EXCHANGE = "exchange"  # 换货
    REPAIR = "repair"  # 维修
    PRICE_PROTECTION = "price_protection"  # 价保
    COMPENSATION = "compensation"  # 赔付
    INVOICE = "invoice"  # 补开发票


class CaseReason(StrEnum):
    """Why the customer asks; owned by cases, also read by the rules' conditions."""

    CHANGED_MIND = "changed_mind"  # 七天无理由
    DEFECT = "defect"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    MISSING_ITEM = "missing_item"
    NOT_RECEIVED = "not_received"
    LATE_DELIVERY = "late_delivery"
    OUT_OF_STOCK = "out_of_stock"
    PRICE_DROP = "price_drop"
    INVOICE_NEEDED = "invoice_needed"
    OTHER = "other"


class MessageClass(StrEnum):
    """What a message to a customer is, for the outreach governor (owned by notifications; the
    contexts that reach out, proactive service and merchants' outreach, name it when they send)."""

    TRANSACTIONAL = "transactional"  # the status of something the customer did; no marketing content
    SERVICE_PROACTIVE = "service_proactive"  # trouble found before the customer asked, with its answer
    MARKETING = "marketing"  # only with a consent record
