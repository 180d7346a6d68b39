"""What a customer's message can mean: the intents, the result of understanding a message, and
the out-of-scope decision. Pure: no model, no database, no clock.

The ids of the intents are a public contract (the `aftersales assistant classify` output, the
dialogue flows, the evaluation files); add new ones at the end and never rename one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Intent(StrEnum):
    TRACK_ORDER = "track_order"  # where is my parcel, logistics not updating
    URGE_DELIVERY = "urge_delivery"  # not shipped yet, please hurry (催发货 / 催快递)
    DELIVERY_OPTIONS = "delivery_options"  # carriers, shipping fees, delivery time, regions, COD
    CANCEL_ORDER = "cancel_order"
    CHANGE_ORDER = "change_order"  # size, colour, quantity, items of an unshipped order
    CHANGE_ADDRESS = "change_address"  # address, consignee, phone of an order
    RETURN_GOODS = "return_goods"  # send the goods back (退货)
    REFUND = "refund"  # money back (退款 / 仅退款)
    REFUND_STATUS = "refund_status"  # where is my refund
    EXCHANGE = "exchange"  # another size, colour or a replacement (换货)
    REPAIR = "repair"  # warranty, broken after use, service centre (维修 / 保修)
    PRICE_PROTECTION = "price_protection"  # price dropped after purchase (价保)
    INVOICE = "invoice"  # 发票, VAT invoice, receipt
    PAYMENT = "payment"  # failed or double charges, payment methods, instalments
    COMPLAINT = "complaint"  # 投诉, 12315, bad review threats, angry escalation
    HUMAN_AGENT = "human_agent"  # 转人工, a real person
    POLICY_QUESTION = "policy_question"  # the rules: return window, warranty length, who pays
    FEEDBACK = "feedback"  # suggestions and praise about the shop or the service
    ACCOUNT = "account"  # login, password, phone binding, membership, points
    PRE_SALES = "pre_sales"  # before buying: stock, size, specs, authenticity, discounts
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    OUT_OF_SCOPE = "out_of_scope"


INTENTS: tuple[str, ...] = tuple(intent.value for intent in Intent)

# Intents whose flow changes something (an order, a case, money): a wrong guess here costs the
# customer, so these must never be picked for an out-of-scope message.
ACTION_INTENTS = frozenset(
    {
        Intent.URGE_DELIVERY,
        Intent.CANCEL_ORDER,
        Intent.CHANGE_ORDER,
        Intent.CHANGE_ADDRESS,
        Intent.RETURN_GOODS,
        Intent.REFUND,
        Intent.EXCHANGE,
        Intent.REPAIR,
        Intent.PRICE_PROTECTION,
        Intent.INVOICE,
        Intent.COMPLAINT,
    }
)
SMALL_TALK = frozenset({Intent.GREETING, Intent.THANKS, Intent.GOODBYE})

# Below this calibrated probability of the best intent the message counts as out of scope (the
# bot asks to rephrase, answers from the FAQ or hands off). Chosen on the held-out split with
# `python bench/assistant_bench.py --sweep`; see docs/assistant.md for the sweep and the figure.
OUT_OF_SCOPE_THRESHOLD = 0.40


@dataclass(frozen=True, slots=True)
class Understanding:
    """One message understood: the intent, how sure (0–1), entities, and the runner-up intents."""

    text: str
    intent: str
    confidence: float
    entities: dict[str, Any] = field(default_factory=dict)
    ranking: tuple[tuple[str, float], ...] = ()

    @property
    def is_action(self) -> bool:
        return self.intent in ACTION_INTENTS

    def as_json(self) -> dict[str, Any]:
        """The shape of one `aftersales assistant classify` output line."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": self.entities,
        }


def decide(probabilities: Mapping[str, float], threshold: float = OUT_OF_SCOPE_THRESHOLD) -> tuple[str, float]:
    """The intent and its confidence from calibrated class probabilities.

    The best intent wins when its probability reaches the threshold. Otherwise the message is out
    of scope, and the confidence is how sure we are of that: the larger of the out-of-scope
    class's own probability and the doubt about the best intent (1 - its probability).
    """
    if not probabilities:
        return Intent.OUT_OF_SCOPE.value, 1.0
    best = max(probabilities, key=lambda name: (probabilities[name], name))
    top = probabilities[best]
    if best == Intent.OUT_OF_SCOPE or top >= threshold:
        return best, top
    return Intent.OUT_OF_SCOPE.value, max(probabilities.get(Intent.OUT_OF_SCOPE, 0.0), 1.0 - top)
