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
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from aftersales.tickets import classification_model as model
from aftersales.tickets import taxonomy as taxonomy_module
from aftersales.tickets.taxonomy import GAP, Taxonomy

MAX_CHARS = 2000  # longer texts are read up to here: enough to classify, bounded in time
MAX_TAGS = 5
# The tag a scenario gets when only the model or the order's facts point to it.
DEFAULT_TAGS = {
    "other": "other.unclassified",
    "experience.late_delivery": "experience.late_delivery.not_arrived",
    "consultation": "consultation.order_status",
}
FAULT_GROUPS = ("product", "service", "experience")

# A negation right before a keyword cancels it ("没坏", "not broken", "no damage").
NEG_ZH_1 = frozenset("不没未无别非")
NEG_ZH_2 = frozenset({"没有", "并非", "不是", "从未", "不想", "不会", "不用", "并没", "无需"})
NEG_EN = frozenset({"not", "no", "never", "isnt", "wasnt", "arent", "werent", "without", "nothing", "none", "hardly"})

# Words that are not keywords of a tag but change the reading (threats, disputes, cues of when
# something broke, impatience) are data too: the `signals` section of taxonomy.yaml.
_NOT_BREAKAGE = re.compile("易碎|碎片|碎花|碎发|破费|坏处")  # words with 碎/破/坏 that are not breakage

_HAN = re.compile(r"[\u3400-\u9fff]")
# "…" in a keyword: the parts come in this order with a few characters (or words) between them,
# within one sentence: "改…地址" matches "改一下收货地址", "change…address" "change my delivery address".
GAP_CHARS = 6
GAP_WORDS = 3
_SENTENCE_ENDS = frozenset("。！？!?；;\n")
_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHES = re.compile(r"['’‘`´]")


# --- inputs and outputs ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the linked order and the customer's history say; all optional for a ticket without an order."""

    order_number: str = ""
    category: str | None = None  # product category code of the order: baby_maternal, home_appliances, …
    merchant_kind: str | None = None  # "self_operated" (or "self") | "pop" | None
    order_amount: Decimal | None = None
    delivered: bool = False
    days_late: int = 0  # > 0 when the parcel is late against its ETA
    customer_vip: bool = False
    complaints_30d: int = 0  # earlier complaints by the same customer
    channel: str = "web"

    @property
    def is_pop(self) -> bool:
        return self.merchant_kind == "pop"

    @property
    def has_order(self) -> bool:
        return bool(self.order_number)


@dataclass(frozen=True, slots=True)
class Classification:
    responsibility: str  # merchant | logistics | platform | customer
    scenario: str  # product.defect, …, consultation, other
    tags: tuple[str, ...]  # fine tag ids, best first
    confidence: float  # 0–1
    ticket_type: str  # consultation | complaint | dispute
    threatens_escalation: bool
    reasons: tuple[str, ...] = field(default=())


class Labelled(Protocol):
    responsibility: str
    scenario: str


@dataclass(frozen=True, slots=True)
class AccuracyReport:
    total: int
    responsibility_correct: int
    scenario_correct: int
    both_correct: int
    by_scenario: dict[str, tuple[int, int]]  # corrected scenario → (right, seen)
    confusions: list[tuple[str, str, int]]  # (predicted, corrected, count) of scenario mistakes, commonest first

    @property
    def responsibility_accuracy(self) -> float:
        return self.responsibility_correct / self.total if self.total else 0.0

    @property
    def scenario_accuracy(self) -> float:
        return self.scenario_correct / self.total if self.total else 0.0

    @property
    def both_accuracy(self) -> float:
        return self.both_correct / self.total if self.total else 0.0


# --- matching ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Hit:
    start: int  # character offsets in the normalised text
    end: int
    tag: str
    weight: float
    words: str


@dataclass(frozen=True, slots=True)
class _Index:
    zh: dict[str, list[tuple[tuple[str, ...], str, float]]]  # first character → (parts, tag, weight), longest first
    en: dict[str, list[tuple[tuple[str, ...], str, float]]]  # first word → (words, tag, weight), longest first
    spellings: Mapping[str, str]


@dataclass(slots=True)
class _Text:
    raw: str  # normalised: NFKC, lower case, apostrophes dropped
    words: list[tuple[str, int, int]]  # (word after spelling fixes, start, end)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower()
    return _APOSTROPHES.sub("", text)


def _prepare(text: str, spellings: Mapping[str, str]) -> _Text:
    raw = normalise(text)
    words = [(spellings.get(m.group(), m.group()), m.start(), m.end()) for m in _WORD.finditer(raw)]
    return _Text(raw, words)


def _en_words(phrase: str, spellings: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(spellings.get(w, w) for w in _WORD.findall(normalise(phrase)))


_INDEXES: dict[int, tuple[Taxonomy, _Index]] = {}


def _index(tax: Taxonomy) -> _Index:
    """The keyword index of a taxonomy, built once per taxonomy object (the shipped one is loaded once)."""
    cached = _INDEXES.get(id(tax))
    if cached is not None and cached[0] is tax:
        return cached[1]
    if len(_INDEXES) > 8:
        _INDEXES.clear()
    built = _build_index(tax)
    _INDEXES[id(tax)] = (tax, built)
    return built


def _build_index(tax: Taxonomy) -> _Index:
    zh: dict[str, list[tuple[tuple[str, ...], str, float]]] = defaultdict(list)
    en: dict[str, list[tuple[tuple[str, ...], str, float]]] = defaultdict(list)
    for tag in tax.tags:
        for keyword in tag.keywords_zh:
            parts = tuple(p for p in (normalise(part).strip() for part in keyword.split(GAP)) if p)
            if parts:
                zh[parts[0][0]].append((parts, tag.id, _zh_weight("".join(parts))))
        for keyword in tag.keywords_en:
            words: tuple[str, ...] = ()
            for part in keyword.split(GAP):
                part_words = _en_words(part, tax.spellings)
                if part_words:
                    words += ((GAP,) if words else ()) + part_words
            if words and (words, tag.id) not in {(w, t) for w, t, _ in en[words[0]]}:
                en[words[0]].append((words, tag.id, _en_weight(tuple(w for w in words if w != GAP))))
    for entries in zh.values():
        entries.sort(key=lambda e: -sum(map(len, e[0])))
    for en_entries in en.values():
        en_entries.sort(key=lambda e: -len(e[0]))
    return _Index(dict(zh), dict(en), tax.spellings)


def _match_zh(raw: str, i: int, parts: tuple[str, ...]) -> int:
    """End of the keyword starting at i, its parts in order with short gaps between; -1 if absent."""
    if not raw.startswith(parts[0], i):
        return -1
    end = i + len(parts[0])
    for part in parts[1:]:
        window = raw[end : end + GAP_CHARS + len(part)]
        j = window.find(part)
        if j < 0 or any(c in _SENTENCE_ENDS for c in window[:j]):
            return -1
        end += j + len(part)
    return end


def _match_en(words: list[tuple[str, int, int]], i: int, candidate: tuple[str, ...]) -> int:
    """Index after the last word of the keyword starting at word i; -1 if absent."""
    k = i
    for n, expected in enumerate(candidate):
        if expected == GAP:
            continue
        if n and candidate[n - 1] == GAP:
            for skip in range(GAP_WORDS + 1):
                if k + skip < len(words) and _word_fits(expected, words[k + skip][0]):
                    k += skip
                    break
            else:
                return -1
        elif k >= len(words) or not _word_fits(expected, words[k][0]):
            return -1
        k += 1
    return k


def _zh_weight(word: str) -> float:
    return max(0.7, min(2.5, 1.0 + 0.3 * (len(word) - 2)))


def _en_weight(words: tuple[str, ...]) -> float:
    if len(words) == 1 and len(words[0]) <= 3:
        return 0.8
    return min(2.5, 1.0 + 0.6 * (len(words) - 1))


_SUFFIXES = ("s", "es", "ed", "d", "ing", "ly")


def _word_fits(keyword: str, word: str) -> bool:
    """The word is the keyword or the keyword with a plural, past or -ing ending."""
    if word == keyword:
        return True
    if word.startswith(keyword) and word[len(keyword) :] in _SUFFIXES and len(keyword) >= 3:
        return True
    return keyword.endswith("e") and word == keyword[:-1] + "ing"


def _negated_zh(raw: str, start: int) -> bool:
    return (start >= 1 and raw[start - 1] in NEG_ZH_1) or (start >= 2 and raw[start - 2 : start] in NEG_ZH_2)


def _negated_en(words: list[tuple[str, int, int]], i: int) -> bool:
    return any(w in NEG_EN for w, _, _ in words[max(0, i - 2) : i])


def _find(text: _Text, index: _Index) -> list[_Hit]:
    hits: list[_Hit] = []
    raw = text.raw
    for i, char in enumerate(raw):
        for parts, tag, weight in index.zh.get(char, ()):
            end = _match_zh(raw, i, parts)
            if end > 0 and not _negated_zh(raw, i):
                hits.append(_Hit(i, end, tag, weight, raw[i:end]))
    words = text.words
    for i, (first, _, _) in enumerate(words):
        for candidate, tag, weight in [*index.en.get(first, ()), *_stems(index, first)]:
            after = _match_en(words, i, candidate)
            if after > 0 and not _negated_en(words, i):
                start, end = words[i][1], words[after - 1][2]
                hits.append(_Hit(start, end, tag, weight, raw[start:end]))
    return _longest_first(hits)


def _stems(index: _Index, word: str) -> list[tuple[tuple[str, ...], str, float]]:
    """Keywords whose first word is this word without its ending ("leaking" → "leak")."""
    found: list[tuple[tuple[str, ...], str, float]] = []
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            found.extend(index.en.get(word[: -len(suffix)], ()))
    if word.endswith("ing"):
        found.extend(index.en.get(word[:-3] + "e", ()))
    return found


def _longest_first(hits: list[_Hit]) -> list[_Hit]:
    """Overlapping hits keep the longest: "发错颜色" says more than the "发错" inside it."""
    kept: list[_Hit] = []
    taken: list[tuple[int, int]] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        if all(hit.end <= s or hit.start >= e for s, e in taken):
            kept.append(hit)
            taken.append((hit.start, hit.end))
    return sorted(kept, key=lambda h: h.start)


def _mentions(text: _Text, zh: Iterable[str], en: Iterable[str]) -> list[str]:
    """Which of these Chinese substrings or English phrases occur (not negated)."""
    found = [w for w in zh if (i := text.raw.find(w)) >= 0 and not _negated_zh(text.raw, i)]
    words = [w for w, _, _ in text.words]
    for phrase in en:
        parts = tuple(_WORD.findall(phrase))
        n = len(parts)
        for i in range(len(words) - n + 1):
            if all(_word_fits(p, words[i + j]) for j, p in enumerate(parts)) and not _negated_en(text.words, i):
                found.append(phrase)
                break
    # "12315" also contains "315": keep the longer word only.
    return [w for w in found if not any(w != other and w in other for other in found)]


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
    _index(tax)
    model.trained(tax)


def classify(text: str, facts: TicketFacts | None = None, tax: Taxonomy | None = None) -> Classification:
    """Responsibility, scenario, tags, type, threat and reasons for a ticket's text and its order's facts."""
    facts = facts or TicketFacts()
    tax = tax or taxonomy_module.load()
    index = _index(tax)
    prepared = _prepare(text, index.spellings)
    hits = _find(prepared, index)
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
    threats = _mentions(prepared, *tax.signal("threats"))
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
    tax: Taxonomy, text: _Text, hits: list[_Hit], facts: TicketFacts, scores: dict[str, float], reasons: list[str]
) -> None:
    """A bare "broken/坏了" that no keyword explained: arrived so (logistics) or broke in use (merchant)."""
    covered = [(h.start, h.end) for h in hits]
    covered += [(m.start(), m.end()) for m in _NOT_BREAKAGE.finditer(text.raw)]
    found = None
    breakage_zh, breakage_en = tax.signal("breakage")
    for word in breakage_zh:
        i = text.raw.find(word)
        if i >= 0 and not _negated_zh(text.raw, i) and not any(s <= i < e for s, e in covered):
            found = word
            break
    if found is None:
        for i, (word, start, _) in enumerate(text.words):
            if word in breakage_en and not _negated_en(text.words, i) and not any(s <= start < e for s, e in covered):
                found = word
                break
    if found is None:
        return
    if _mentions(text, *tax.signal("usage")):
        scores["product.defect.stopped_working"] += 1.2
        reasons.append(f"“{found}” after use → a defect")
    elif _mentions(text, *tax.signal("arrival")) or facts.delivered:
        scores["product.damage.broken_in_transit"] += 1.2
        reasons.append(f"“{found}” on arrival → damaged in transit")
    else:
        scores["product.defect.not_working"] += 0.8
        reasons.append(f"“{found}” → a defect")


def _apply_delivery_facts(
    tax: Taxonomy, text: _Text, facts: TicketFacts, scores: dict[str, float], reasons: list[str]
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
    if facts.has_order and not facts.delivered and waiting and not _mentions(text, *tax.signal("impatience")):
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
    text: _Text,
    scenario: str,
    tags: list[str],
    facts: TicketFacts,
    threatens: bool,
    reasons: list[str],
) -> str:
    disputed = _mentions(text, *tax.signal("disputes"))
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


def _axis(item: Labelled | Mapping[str, Any], name: str) -> str:
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    return str(value or "")


def accuracy(pairs: Iterable[tuple[Labelled | Mapping[str, Any], Labelled | Mapping[str, Any]]]) -> AccuracyReport:
    """How often the arrival classification matched what agents corrected it to, per axis.

    Each pair is (predicted, corrected): Classifications, correction rows, or mappings with
    `responsibility` and `scenario`. A ticket nobody corrected counts when passed in as (p, p).
    """
    total = resp = scen = both = 0
    seen: Counter[str] = Counter()
    right: Counter[str] = Counter()
    mistakes: Counter[tuple[str, str]] = Counter()
    for predicted, corrected in pairs:
        total += 1
        r_ok = _axis(predicted, "responsibility") == _axis(corrected, "responsibility")
        s_ok = _axis(predicted, "scenario") == _axis(corrected, "scenario")
        resp += r_ok
        scen += s_ok
        both += r_ok and s_ok
        seen[_axis(corrected, "scenario")] += 1
        if s_ok:
            right[_axis(corrected, "scenario")] += 1
        else:
            mistakes[(_axis(predicted, "scenario"), _axis(corrected, "scenario"))] += 1
    return AccuracyReport(
        total=total,
        responsibility_correct=resp,
        scenario_correct=scen,
        both_correct=both,
        by_scenario={s: (right[s], n) for s, n in sorted(seen.items())},
        confusions=[(p, c, n) for (p, c), n in mistakes.most_common()],
    )
