"""Classifying a ticket on arrival: responsibility × scenario, fine tags, type, threats, and why.

Pure: text and order facts in, a Classification out; no database. It reads the customer's words
(Chinese, English or both, with common typos) against the taxonomy's keywords, then lets the
order's facts change the reading the way an agent would:

- a parcel late against its ETA turns "where is it?" into a late-delivery complaint against
  logistics (an on-time one stays a question);
- "没收到 / not received" on an order the carrier marks delivered is "marked delivered";
- "broken / 坏了" is damage in transit (logistics) when it arrived that way, a defect (merchant)
  when it broke in use;
- faults the platform would answer for on a self-operated order are the merchant's on a POP order.

Every step leaves a short reason for the agent. Keywords, not a trained model: the reasons are
exact, a new tag works the moment it is added to taxonomy.yaml, and one ticket takes well under
a millisecond (docs/decisions/0014-ticket-classification.md says why and how to measure).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from aftersales.tickets import taxonomy as taxonomy_module
from aftersales.tickets.classification import model
from aftersales.tickets.classification.domain import Classification, TicketFacts
from aftersales.tickets.classification.keywords import (
    Hit,
    Prepared,
    find,
    index_of,
    mentions,
    negated_en,
    negated_zh,
    prepare,
)
from aftersales.tickets.taxonomy import Taxonomy

MAX_TAGS = 5
# The tag a scenario gets when only the model or the order's facts point to it.
DEFAULT_TAGS = {
    "other": "other.unclassified",
    "experience.late_delivery": "experience.late_delivery.not_arrived",
    "consultation": "consultation.order_status",
}
FAULT_GROUPS = ("product", "service", "experience")

# Words that are not keywords of a tag but change the reading (threats, disputes, cues of when
# something broke, impatience) are data too: the `signals` section of taxonomy.yaml.
_NOT_BREAKAGE = re.compile("易碎|碎片|碎花|碎发|破费|坏处")  # words with 碎/破/坏 that are not breakage

_HAN = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9]+")


def _model_reading(tax: Taxonomy, raw: str, scores: dict[str, float], reasons: list[str]) -> str | None:
    """Adds the model's scenario to the scores when it is sure enough; returns its responsibility."""
    if len(_HAN.findall(raw)) < model.MIN_HAN and len(_WORD.findall(raw)) < model.MIN_WORDS:
        return None  # "hi", "嗯", "???": too little to read anything into
    reader = model.trained(tax)
    columns, values = reader.features(raw)
    if not len(columns):
        return None
    probabilities = reader.scenario.probabilities(columns, values)
    best = int(probabilities.argmax())
    scenario, probability = reader.scenario.classes[best], float(probabilities[best])
    if probability < model.MIN_PROBABILITY or scenario == "other":
        return None
    tag = DEFAULT_TAGS.get(scenario) or tax.tags_of(scenario)[0].id
    scores[tag] += model.WEIGHT * probability
    reasons.append(f"no keyword; the model reads it as {scenario} ({probability:.0%})")
    responsibilities = reader.responsibility.probabilities(columns, values)
    return reader.responsibility.classes[int(responsibilities.argmax())]


# --- classifying -----------------------------------------------------------------------------------
def warm_up(tax: Taxonomy | None = None) -> None:
    """Build the keyword index and train the model now (at start-up), not on the first ticket."""
    tax = tax or taxonomy_module.load()
    index_of(tax)
    model.trained(tax)


def classify(text: str, facts: TicketFacts | None = None, tax: Taxonomy | None = None) -> Classification:
    """Responsibility, scenario, tags, type, threat and reasons for a ticket's text and its order's facts."""
    facts = facts or TicketFacts()
    tax = tax or taxonomy_module.load()
    index = index_of(tax)
    prepared = prepare(text, index.spellings)
    hits = find(prepared, index)
    scores: dict[str, float] = defaultdict(float)
    reasons: list[str] = []
    words_of: dict[str, list[str]] = defaultdict(list)
    for hit in hits:
        scores[hit.tag] += hit.weight
        words_of[hit.tag].append(hit.words)

    _resolve_breakage(tax, prepared, hits, facts, scores, reasons)
    model_responsibility = None
    if not scores and prepared.raw.strip():
        # No keyword at all: the model trained on data/classification.csv reads the text.
        model_responsibility = _model_reading(tax, prepared.raw, scores, reasons)
    corroborated = _apply_delivery_facts(tax, prepared, facts, scores, reasons)

    by_scenario: dict[str, float] = defaultdict(float)
    for tag_id, score in scores.items():
        by_scenario[tax.tag(tag_id).scenario] += score
    fault = sum(v for s, v in by_scenario.items() if tax.group_of(s) in FAULT_GROUPS)
    if fault > 0:
        # A question or a thank-you next to a fault is about the fault ("碎了，可以退吗?").
        for scenario_id in list(by_scenario):
            group = tax.group_of(scenario_id)
            if group == "consultation" or (group == "other" and "other.customer_error" not in scores):
                by_scenario[scenario_id] *= 0.6
    ranked = sorted(by_scenario.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] <= 0:
        scenario, top, second = "other", 0.0, 0.0
        reasons.append("no known words: left for an agent to classify")
    else:
        scenario, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0

    tags = _ranked_tags(tax, scenario, scores)
    for tag_id in tags[:2]:
        if words_of.get(tag_id):
            quoted = ", ".join(f"“{w}”" for w in dict.fromkeys(words_of[tag_id]))
            reasons.append(f"{quoted} → {tag_id}")

    responsibility = _responsibility(tax, scenario, tags, scores, facts, reasons, model_responsibility)
    threats = mentions(prepared, *tax.signal("threats"))
    if threats:
        reasons.append("threatens to escalate: " + ", ".join(f"“{w}”" for w in threats[:3]))
    ticket_type = _ticket_type(tax, prepared, scenario, tags, facts, bool(threats), reasons)

    confidence = 0.2 if top <= 0 else (top / (top + second)) * (1 - math.exp(-top / 1.2))
    if corroborated:
        confidence += 0.1
    return Classification(
        responsibility=responsibility,
        scenario=scenario,
        tags=tuple(tags),
        confidence=round(max(0.05, min(0.99, confidence)), 2),
        ticket_type=ticket_type,
        threatens_escalation=bool(threats),
        reasons=tuple(reasons),
    )


def _resolve_breakage(
    tax: Taxonomy, text: Prepared, hits: list[Hit], facts: TicketFacts, scores: dict[str, float], reasons: list[str]
) -> None:
    """A bare "broken/坏了" that no keyword explained: arrived so (logistics) or broke in use (merchant)."""
    covered = [(h.start, h.end) for h in hits]
    covered += [(m.start(), m.end()) for m in _NOT_BREAKAGE.finditer(text.raw)]
    found = None
    breakage_zh, breakage_en = tax.signal("breakage")
    for word in breakage_zh:
        i = text.raw.find(word)
        if i >= 0 and not negated_zh(text.raw, i) and not any(s <= i < e for s, e in covered):
            found = word
            break
    if found is None:
        for i, (word, start, _) in enumerate(text.words):
            if word in breakage_en and not negated_en(text.words, i) and not any(s <= start < e for s, e in covered):
                found = word
                break
    if found is None:
        return
    if mentions(text, *tax.signal("usage")):
        scores["product.defect.stopped_working"] += 1.2
        reasons.append(f"“{found}” after use → a defect")
    elif mentions(text, *tax.signal("arrival")) or facts.delivered:
        scores["product.damage.broken_in_transit"] += 1.2
        reasons.append(f"“{found}” on arrival → damaged in transit")
    else:
        scores["product.defect.not_working"] += 0.8
        reasons.append(f"“{found}” → a defect")


def _apply_delivery_facts(
    tax: Taxonomy, text: Prepared, facts: TicketFacts, scores: dict[str, float], reasons: list[str]
) -> bool:
    """What the order says about delivery changes what "where is it" means. True when facts back the text."""
    asking = scores.pop("consultation.order_status", 0.0)
    waiting = scores.get("experience.late_delivery.not_arrived", 0.0)
    if facts.days_late > 0 and not facts.delivered:
        days = f"{facts.days_late} day{'s' if facts.days_late != 1 else ''}"
        scores["experience.late_delivery.not_arrived"] = waiting + asking + (1.5 if (waiting or asking) else 0.6)
        reasons.append(f"the parcel is {days} late against its ETA")
        return bool(waiting or asking)
    if facts.delivered and waiting:
        # The carrier says delivered; the customer says not received.
        scores.pop("experience.late_delivery.not_arrived")
        scores["experience.late_delivery.marked_delivered"] += waiting + asking + 0.5
        reasons.append("the order shows delivered, the customer says it did not arrive")
        return True
    if facts.has_order and not facts.delivered and waiting and not mentions(text, *tax.signal("impatience")):
        # Not late yet: "where is my parcel?" is a question about the order.
        scores.pop("experience.late_delivery.not_arrived")
        scores["consultation.order_status"] += waiting + asking
        reasons.append("the parcel is not late against its ETA yet: a question")
        return True
    if asking:
        scores["consultation.order_status"] = asking
    return False


def _ranked_tags(tax: Taxonomy, scenario: str, scores: Mapping[str, float]) -> list[str]:
    ordered = sorted(scores.items(), key=lambda kv: (tax.tag(kv[0]).scenario != scenario, -kv[1], kv[0]))
    tags = [tag_id for tag_id, score in ordered if score > 0][:MAX_TAGS]
    if not tags or tax.tag(tags[0]).scenario != scenario:
        default = DEFAULT_TAGS.get(scenario) or (tax.tags_of(scenario)[0].id if tax.tags_of(scenario) else None)
        if default and tax.has_tag(default):
            tags = [default, *[t for t in tags if t != default]][:MAX_TAGS]
    return tags


def _responsibility(
    tax: Taxonomy,
    scenario: str,
    tags: list[str],
    scores: Mapping[str, float],
    facts: TicketFacts,
    reasons: list[str],
    model_responsibility: str | None = None,
) -> str:
    if scores.get("other.customer_error", 0) > 0:
        reasons.append("the customer says it was their own mistake")
        return "customer"
    responsibility = model_responsibility or (tax.tag(tags[0]).responsibility if tags else "platform")
    group = tax.group_of(scenario)
    if facts.is_pop and responsibility == "platform" and group in FAULT_GROUPS:
        reasons.append("POP order: the merchant answers for it first")
        return "merchant"
    return responsibility


def _ticket_type(
    tax: Taxonomy,
    text: Prepared,
    scenario: str,
    tags: list[str],
    facts: TicketFacts,
    threatens: bool,
    reasons: list[str],
) -> str:
    disputed = mentions(text, *tax.signal("disputes"))
    if disputed or (facts.is_pop and "service.broken_promise.warranty_refused" in tags[:1]):
        reasons.append("buyer and merchant disagree: a dispute" + (f" (“{disputed[0]}”)" if disputed else ""))
        return "dispute"
    group = tax.group_of(scenario)
    if threatens or group in FAULT_GROUPS:
        return "complaint"
    if group == "other" and tags and tags[0] in ("other.privacy",):
        return "complaint"
    return "consultation"


# --- after classification --------------------------------------------------------------------------
def priority_facts(
    found: Classification, facts: TicketFacts, *, ticket_type: str | None = None, customer_tier: str | None = None
) -> dict[str, Any]:
    """The facts the ticket_priority policies read (rules.service.decide_ticket_priority)."""
    tax = taxonomy_module.load()
    return {
        "ticket.type": ticket_type or found.ticket_type,
        "ticket.scenario": found.scenario,
        "ticket.scenario_group": tax.group_of(found.scenario),
        "ticket.responsibility": found.responsibility,
        "ticket.tags": list(found.tags),
        "ticket.threatens_escalation": found.threatens_escalation,
        "ticket.channel": facts.channel,
        "product.category": facts.category,
        "order.total": facts.order_amount,
        "order.days_late": max(0, int(facts.days_late)),
        "order.merchant_kind": "pop" if facts.is_pop else ("self_operated" if facts.merchant_kind else None),
        "customer.tier": customer_tier or ("vip" if facts.customer_vip else "regular"),
        "customer.complaints_30d": int(facts.complaints_30d),
    }
