"""The conversation's agenda: several requests in one message, a request left for another one, and
follow-ups that point back at what was just discussed. Pure, like dialogue.py, whose types these are.

- "I want to return the shoes and where is my other parcel?": the message is cut into clauses,
  each understood on its own (the service does that, `clauses`); two confident requests of
  different kinds are served in order, the second queued and taken up when the first is done (or
  at once on the "next" quick reply). "Other" in the queued request leaves out the first one's order.
- A confident new request in the middle of a flow is served at once; the flow it interrupts is
  offered back (a quick reply) when the new one is done, never finished on a guess.
- "and the other one?", "那个呢", "the first one", "第二个", "SO… 呢" repeat the last request on
  an order just listed or discussed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aftersales.assistant import slots
from aftersales.assistant.dialogue import (
    FLOWS,
    HANDOFF_INTENTS,
    SURE,
    Button,
    Reply,
    Snapshot,
    State,
    T,
    Turn,
    candidates,
)
from aftersales.understanding.intents import Intent, Understanding

MAX_CLAUSES = 4
# Where one request ends and another may begin; a clause needs two characters ("退货") to be a request.
_SPLIT = re.compile(r"[，,。；;？?！!\n]+|\s+(?:and|also|plus|then|btw)\s+|还有|另外|顺便|以及|然后|并且|同时")
_MIN_CLAUSE = 2
# Claims on goods one has are one kind of request: "坏了，要退款" is one claim, not two.
CLAIMS = frozenset({Intent.RETURN_GOODS, Intent.REFUND, Intent.EXCHANGE, Intent.REPAIR})
# A request that already does what another would: cancelling a paid order refunds it.
IMPLIES: dict[str, frozenset[str]] = {Intent.CANCEL_ORDER: frozenset({Intent.REFUND, Intent.REFUND_STATUS})}
_OTHER = re.compile(
    r"\b(?:the )?other (?:one|order|parcel|package|item)s?\b|\banother one\b|\bthe other\b"
    r"|另一个|另外一个|另一单|另外那个|另一件|其他的|别的|那个呢|那一个呢"
)
_FOLLOW_CUE = re.compile(r"呢\s*$|^\s*(?:and|what about|how about)\b|\b(?:too|also)\s*\??$|^还有|也")


def clauses(text: str) -> list[str]:
    """The message's clauses that could each be a request (at most four); one clause: [] (the whole
    message is one request)."""
    parts = [p.strip() for p in _SPLIT.split(text) if len(p.strip()) >= _MIN_CLAUSE]
    return parts[:MAX_CLAUSES] if len(parts) >= 2 else []


def family(intent: str) -> str:
    return "claim" if intent in CLAIMS else intent


def same_family(a: str, b: str) -> bool:
    return bool(a) and bool(b) and family(a) == family(b)


def requests(parts: Sequence[Understanding]) -> list[Understanding]:
    """The distinct confident requests among a message's clauses, in the order they were written."""
    found: list[Understanding] = []
    for part in parts:
        if part.intent not in FLOWS or part.confidence < SURE:
            continue
        if any(same_family(part.intent, f.intent) or part.intent in IMPLIES.get(f.intent, ()) for f in found):
            continue
        found.append(part)
    return found


def asks_other(text: str) -> bool:
    return bool(_OTHER.search(slots.norm(text)))


def item_of(u: Understanding, **more: Any) -> dict[str, Any]:
    """A queued request, as stored with the conversation."""
    return {"intent": u.intent, "text": u.text[:300], "entities": dict(u.entities), **more}


def intent_of(state: State) -> str:
    """The request a flow serves (a flow a keyword started carries the model's guess, not this)."""
    said = str(state.slots.get("intent", ""))
    if said in FLOWS:
        return said
    kind = str(state.slots.get("kind", ""))
    return next((str(i) for i, (flow, fixed) in FLOWS.items() if flow == state.flow and fixed.get("kind") == kind), "")


def left(state: State) -> dict[str, Any]:
    """The flow the customer left for another request: offered back once that one is done."""
    kept = {k: v for k, v in state.slots.items() if k in ("order", "line", "kind", "reason", "qty")}
    return {"intent": intent_of(state), "slots": kept, "offer": True}


def understanding_of(item: dict[str, Any]) -> Understanding:
    return Understanding(
        text=str(item.get("text", "")),
        intent=str(item["intent"]),
        confidence=1.0,
        entities=dict(item.get("entities") or {}),
    )


def _named(intent: str) -> T:
    return T(f"chat.intent.{intent}")


# --- arranging a message -------------------------------------------------------------------------
def arrange(
    u: Understanding, state: State, ctx: Snapshot, choice: str, parts: Sequence[Understanding]
) -> tuple[Understanding, State, Snapshot, list[Understanding]]:
    """The request to serve now, the state with the others queued, the orders it may use, and the
    requests just queued (to say so)."""
    if choice == "next":
        waiting = [i for i, item in enumerate(state.queue) if not item.get("offer") and item.get("intent")]
        if not waiting:
            return u, state, ctx, []
        item = state.queue[waiting[0]]
        rest = tuple(x for i, x in enumerate(state.queue) if i != waiting[0])
        if state.flow and intent_of(state):
            rest = (*rest, left(state))
        now = replace(state.context(), queue=rest, misses=state.misses)
        now, view = _without_first(item, now, ctx)
        return understanding_of(item), now, view, []
    if choice or not parts or any(p.intent in HANDOFF_INTENTS and p.confidence >= SURE for p in (u, *parts)):
        return u, state, ctx, []  # "耳机有杂音，想找人工客服": a person takes all of it
    found = requests(parts)
    if len(found) == 1 and (u.intent == Intent.OUT_OF_SCOPE or u.confidence < SURE):
        # Unsure of the whole ("拍错了，帮我把订单取消了": 0.51) but sure of one clause (0.88): that
        # clause is the request; the rest was the why. An action still waits for its yes.
        return replace(u, intent=found[0].intent, confidence=found[0].confidence), state, ctx, []
    if len(found) < 2:
        return u, state, ctx, []
    first, later = found[0], found[1:]
    queued = tuple(item_of(r, other=asks_other(r.text)) for r in later)
    return first, replace(state, queue=(*queued, *state.queue)), ctx, later


def _without_first(item: dict[str, Any], state: State, ctx: Snapshot) -> tuple[State, Snapshot]:
    """'Where is my *other* parcel': not the order the request before it was about."""
    if not item.get("other") or not state.focus:
        return state, ctx
    view = replace(ctx, orders=tuple(o for o in ctx.orders if o.number != state.focus))
    return replace(state, focus=""), view


def announce(turn: Turn, queued: list[Understanding]) -> Turn:
    """Say that the other requests of the message wait their turn, with a quick reply to take the
    next one first; nothing to say when the first was served at once (the next follows now)."""
    if not queued or not turn.state.flow or not turn.replies:
        return turn
    said = Reply("chat.queued", {"what": _named(queued[0].intent)})
    replies = list(turn.replies)
    last = replies[-1]
    if len(last.buttons) < 6:
        replies[-1] = replace(last, buttons=(*last.buttons, Button(T("chat.button.next"), "next")))
    return replace(turn, replies=[*replies[:-1], said, replies[-1]])


def forget_served(turn: Turn, served: str) -> Turn:
    """A request served now (asked for again, or switched to) no longer waits in the queue."""
    if not served or not turn.state.queue:
        return turn
    queue = tuple(item for item in turn.state.queue if not same_family(str(item.get("intent", "")), served))
    return replace(turn, state=replace(turn.state, queue=queue))


# --- taking up what waits ------------------------------------------------------------------------
def go_on(turn: Turn, ctx: Snapshot) -> Turn:
    """Once nothing is pending (no flow, no action, nothing misunderstood), the next queued request:
    started at once, or, for a flow the customer left, offered back with a quick reply."""
    from aftersales.assistant import dialogue

    state = turn.state
    if turn.action is not None or state.flow or state.misses or not state.queue:
        return turn
    item, rest = state.queue[0], state.queue[1:]
    intent = str(item.get("intent", ""))
    if intent not in FLOWS:
        return replace(turn, state=replace(state, queue=rest))
    if item.get("offer"):
        order = str(dict(item.get("slots") or {}).get("order", ""))
        value = f"intent:{intent}@{order}" if order else f"intent:{intent}"
        offer = Reply("chat.resume_offer", {"what": _named(intent)}, buttons=(Button(_named(intent), value),))
        return Turn([*turn.replies, offer], replace(state, queue=rest))
    base, view = _without_first(item, replace(state.context(), queue=rest), ctx)
    nxt = dialogue.remember(dialogue.start(understanding_of(item), base, view), base, view)
    nxt = replace(nxt, state=replace(nxt.state, queue=rest))
    lead = Reply("chat.next_request", {"what": _named(intent)})
    return go_on(Turn([*turn.replies, lead, *nxt.replies], nxt.state, nxt.action), ctx)


# --- follow-ups ----------------------------------------------------------------------------------
def follow_up(u: Understanding, state: State, ctx: Snapshot) -> Turn | None:
    """'and the other one?', '那个呢', 'the first one', '第二个', 'SO… 呢': the last request again,
    on an order just listed or discussed. None when the message is not such a follow-up."""
    from aftersales.assistant import dialogue, flows

    if state.last not in FLOWS or (u.intent in FLOWS and u.confidence >= SURE):
        return None
    flow, fixed = FLOWS[Intent(state.last)]
    pool = candidates(flow, str(fixed.get("kind", "")), ctx.orders)
    seen = [o for n in state.seen if (o := ctx.order(n)) is not None]
    text = slots.norm(u.text).removesuffix("呢").strip()
    target = None
    cue = bool(_FOLLOW_CUE.search(slots.norm(u.text)))
    if cue and (named := slots.order_named(u.text, ctx.orders, u.entities.get("order_number"))) is not None:
        target = ctx.order(named.number)
    elif len(text.split()) <= 4 and (index := slots.ordinal_in(text, len(seen))) is not None:
        target = seen[index]
    elif asks_other(u.text):
        others = [o for o in seen if o.number != state.focus] or [o for o in pool if o.number != state.focus]
        if len(others) > 1:
            again = State(flow, {**fixed, "intent": state.last}, misses=0)
            asked = flows.ask_order(again, others, ctx)
            return replace(asked, state=_kept(asked.state, state))
        target = others[0] if others else None
    if target is None:
        return None
    again_u = replace(u, intent=state.last, confidence=1.0, entities={"order_number": target.number})
    turn = dialogue.start(again_u, replace(state.context(), misses=0), ctx)
    return replace(turn, state=_kept(turn.state, state))


def _kept(new: State, old: State) -> State:
    return replace(new, seen=new.seen or old.seen, last=new.last or old.last, queue=new.queue or old.queue)
