"""The flows behind dialogue.respond: fill the slots a flow needs (order, item, quantity, reason,
address), ask with buttons for what is missing, confirm what cannot be undone, then act.
Pure, like dialogue.py, whose types these are."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aftersales.assistant import agenda, slots
from aftersales.assistant.dialogue import (
    FAQ_INTENTS,
    FLOWS,
    HANDOFF_INTENTS,
    MAX_BUTTONS,
    MISSES_BEFORE_HUMAN,
    NOT_SHIPPED,
    SURE,
    Action,
    Button,
    CancelOrder,
    CaseRequest,
    ChangeAddress,
    HandOff,
    L,
    OpenCase,
    Order,
    Outcome,
    PreviewCase,
    Reply,
    Snapshot,
    State,
    SubmitCase,
    T,
    Turn,
    Urge,
    candidates,
    human_button,
    menu_buttons,
    money,
    yes_no_buttons,
)
from aftersales.understanding.intents import SMALL_TALK, Intent, Understanding

# A free-text "reason" the model is this sure is out of scope is chit-chat ("今天天气怎么样"), not a reason.
CHIT_CHAT_SURE = 0.9
RETURN_LEG = frozenset({"return_refund", "exchange", "repair"})


def what(state_slots: dict[str, Any], flow: str) -> T:
    """The flow in words ("a return", "cancelling an order") for questions that name it."""
    return T(f"chat.flow.{state_slots.get('kind') or flow}")


# Flows (and case kinds) that ask for the order in their own words (catalogue: chat.ask_order.<flow>).
ASKS_FOR_ORDER = frozenset(
    {
        "return_refund", "refund_only", "exchange", "repair", "price_protection", "compensation", "invoice",
        "cancel", "address", "urge", "track", "refund_status",
    }
)  # fmt: skip


def order_question(state_slots: dict[str, Any], flow: str) -> T:
    """The question for the order as the flow asks it ("Which order would you like to cancel?")."""
    asked = str(state_slots.get("kind") or flow)
    return T(f"chat.ask_order.{asked if asked in ASKS_FOR_ORDER else 'other'}")


def order_label(order: Order) -> str:
    first = order.lines[0].product_name if order.lines else ""
    more = f" +{len(order.lines) - 1}" if len(order.lines) > 1 else ""
    return f"{order.number} · {first}{more}"


def product_of(order: Order, line_no: int | None) -> str:
    line = next((x for x in order.lines if x.line_no == line_no), None)
    return line.product_name if line else (order.lines[0].product_name if order.lines else order.number)


def _candidate(order: Order) -> slots.Candidate:
    return slots.Candidate(
        order.number,
        order.placed_on,
        order.delivered_on,
        tuple(slots.Item(x.line_no, x.product_name, x.category) for x in order.lines),
    )


def _switches(u: Understanding, state: State) -> bool:
    """A confident new request in the middle of a flow: leave the flow and serve that instead."""
    wanted = u.intent in FLOWS or u.intent in HANDOFF_INTENTS or u.intent in FAQ_INTENTS
    return wanted and u.confidence >= SURE and u.intent != state.slots.get("intent")


# --- starting a flow -------------------------------------------------------------------------------
def begin(
    flow: str, found: dict[str, Any], u: Understanding, ctx: Snapshot, misses: int = 0, *, focus: str = ""
) -> Turn:
    if flow == "case" and (stated := slots.quantity_stated(u.text)):
        found = {**found, "qty_hint": stated}
    state = State(flow=flow, slots=dict(found), misses=misses)
    pool = candidates(flow, str(found.get("kind", "")), ctx.orders)
    entities = u.entities
    written = slots.order_named(u.text, ctx.orders, None)  # one of theirs, written out in any form
    if number := entities.get("order_number") or (written.number if written else None):
        named = slots.order_named(str(number), ctx.orders, str(number))
        if named is None:
            ask = ask_order(state, pool, ctx)
            return Turn([Reply("chat.order_unknown", {"order": str(number)}), *ask.replies], ask.state)
        order = ctx.order(named.number)
        assert order is not None
        # Asking where a refund is fits any of their orders: the answer may be an open case.
        if order not in pool and flow != "refund_status":
            fit: dict[str, str | T] = {
                "order": order.number,
                "status": T(f"order.{order.status}"),
                "what": what(found, flow),
            }
            return Turn([Reply("chat.order_not_fit", fit, buttons=(human_button(),))], State(misses=misses))
        return proceed(_with(state, order=order.number), ctx)
    product, category = str(entities.get("product", "")), str(entities.get("product_category", ""))
    day = _date(entities.get("date"))
    if (current := _current(ctx.order(focus), pool, product, category, u.text)) is not None:
        order, line_no = current
        chosen = {"order": order.number, **({"line": line_no} if line_no is not None else {})}
        return proceed(_with(state, **chosen), ctx, picked=True)
    if product or category or day:
        matches = slots.match_items([_candidate(o) for o in pool], product, category, day)
        if matches and (len(matches) == 1 or matches[0][0] > matches[1][0]):
            _, order_match, item = matches[0]
            chosen = {"order": order_match.number, "line": item.line_no}
            return proceed(_with(state, **chosen), ctx, picked=True)
        if matches:
            shortlist = list(dict.fromkeys(m[1].number for m in matches))
            return ask_order(state, [o for o in pool if o.number in shortlist], ctx)
        if product or category:
            # Only orders of the kind the customer named; none at all is said, not papered over.
            same_kind = [o for o in pool if category and any(x.category == category for x in o.lines)]
            if len(same_kind) == 1:
                return proceed(_with(state, order=same_kind[0].number), ctx, picked=True)
            if same_kind:
                return ask_order(state, same_kind, ctx)
            said = product or T(f"category.{category}")
            reply = Reply("chat.no_matching_orders", {"product": said}, buttons=(human_button(),))
            return Turn([reply], _at(state, state.slots, "order"))
    if len(pool) == 1:
        return proceed(_with(state, order=pool[0].number), ctx, picked=True)
    return ask_order(state, pool, ctx)


def _current(
    order: Order | None, pool: list[Order], product: str, category: str, text: str
) -> tuple[Order, int | None] | None:
    """The order under discussion when the message refers to it: by a product or kind of goods it
    holds ("the headphones"), or by pointing back ("那个", "it"). None when it does not fit."""
    if order is None or order not in pool:
        return None
    if product or category:
        items = [slots.Item(x.line_no, x.product_name, x.category) for x in order.lines]
        held = [i for i in items if slots.mentions(i, product, category) > 0]
        return (order, held[0].line_no) if held else None
    return (order, None) if slots.points_back(text) else None


def _date(value: Any) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _with(state: State, **values: Any) -> State:
    return State(flow=state.flow, slots={**state.slots, **values}, awaiting="", misses=state.misses)


def ask_order(state: State, pool: list[Order], ctx: Snapshot) -> Turn:
    if not pool:
        reply = Reply("chat.no_orders", {"what": what(state.slots, state.flow)}, buttons=(human_button(),))
        return Turn([reply], State(misses=state.misses))
    buttons = tuple(Button(order_label(o), f"order:{o.number}") for o in pool[:MAX_BUTTONS])
    reply = Reply("chat.ask_order", {"question": order_question(state.slots, state.flow)}, buttons=buttons)
    return Turn([reply], State(state.flow, state.slots, "order", state.misses))


# --- filling the next slot, or acting ----------------------------------------------------------
def proceed(state: State, ctx: Snapshot, *, picked: bool = False) -> Turn:
    """Ask for the next missing slot, or act when all are there."""
    order = ctx.order(state.slots.get("order"))
    if order is None:
        return ask_order(state, candidates(state.flow, str(state.slots.get("kind", "")), ctx.orders), ctx)
    lead = [Reply("chat.picked_order", {"order": order.number, "product": product_of(order, state.slots.get("line"))})]
    turn = _next(state, order, ctx)
    return Turn([*lead, *turn.replies] if picked else turn.replies, turn.state, turn.action)


def _next(state: State, order: Order, ctx: Snapshot) -> Turn:
    flow, s = state.flow, state.slots
    if flow == "track":
        return Turn(track(order), State())
    if flow == "refund_status":
        return Turn(refund_status(order, ctx), State())
    if flow == "urge":
        return Turn([], State(flow, s, "done", state.misses), Urge(order.number))
    if flow == "cancel":
        key = "chat.cancel.confirm_shipped" if order.shipped or order.status == "shipped" else "chat.cancel.confirm"
        total = money(order.total, order.currency)
        params = {"order": order.number, "product": product_of(order, None), "total": total}
        return _confirm(state, Reply(key, params, buttons=yes_no_buttons("chat.button.confirm_cancel")))
    if flow == "address":
        if not s.get("address"):
            params = {"order": order.number, "address": order.address or "—"}
            return Turn([Reply("chat.address.ask", params)], State(flow, s, "address", state.misses))
        address = s["address"]
        params = {"order": order.number, **{k: str(v) for k, v in address.items()}}
        return _confirm(state, Reply("chat.address.confirm", params, buttons=yes_no_buttons()))
    return _next_case_slot(state, order)


def _next_case_slot(state: State, order: Order) -> Turn:
    s, kind = state.slots, str(state.slots.get("kind"))
    if kind != "invoice":
        line = next((x for x in order.lines if x.line_no == s.get("line")), None)
        if line is None and len(order.lines) == 1:
            line = order.lines[0]
            s = {**s, "line": line.line_no}
        if line is None:
            buttons = tuple(
                Button(f"{x.product_name} ×{x.quantity}", f"line:{x.line_no}") for x in order.lines[:MAX_BUTTONS]
            )
            return Turn([Reply("chat.ask_line", {"order": order.number}, buttons=buttons)], _at(state, s, "line"))
        if "qty" not in s:
            hint = int(s.get("qty_hint") or 0)
            if line.quantity == 1 or kind == "price_protection":
                s = {**s, "qty": line.quantity}
            elif 1 <= hint <= line.quantity:
                s = {**s, "qty": hint}
            else:
                buttons = tuple(Button(str(n), f"qty:{n}") for n in range(1, min(line.quantity, MAX_BUTTONS) + 1))
                params = {"product": line.product_name, "most": str(line.quantity)}
                reply = Reply("chat.ask_qty", params, buttons=buttons)
                return Turn([reply], _at(state, s, "qty"))
        if "reason" not in s:
            buttons = tuple(Button(T(f"reason.{r}"), f"reason:{r}") for r in slots.REASONS)
            reply = Reply("chat.ask_reason", {"product": line.product_name}, buttons=buttons)
            return Turn([reply], _at(state, s, "reason"))
        if kind in SENT_BACK and line.category == "fresh_food" and s["reason"] in slots.PROBLEM_REASONS:
            # Fresh food is refunded, never sent back nor repaired (the fresh-food policies): ask for that.
            s = {**s, "kind": "refund_only"}
    request = case_request(order, s)
    return Turn([], _at(state, s, "preview"), PreviewCase(request))


def _at(state: State, s: dict[str, Any], awaiting: str) -> State:
    return State(state.flow, s, awaiting, state.misses)


def _confirm(state: State, question: Reply) -> Turn:
    return Turn([question], State(state.flow, state.slots, "confirm", state.misses))


# Kinds whose goods travel back to the merchant (and a repair): never asked for fresh food.
SENT_BACK = frozenset({"return_refund", "exchange", "repair"})


def case_request(order: Order, s: dict[str, Any]) -> CaseRequest:
    lines = () if s.get("kind") == "invoice" else ((int(s["line"]), int(s["qty"])),)
    return CaseRequest(
        order_number=order.number,
        kind=str(s["kind"]),
        reason=str(s["reason"]),
        lines=lines,
        description=str(s.get("description", ""))[:500],
    )


# --- answers to a pending question ---------------------------------------------------------------
def answer(u: Understanding, state: State, ctx: Snapshot, choice: str) -> Turn | None:
    """Read the message as the answer to the pending question; None when it is a new request."""
    if choice.startswith("intent:") or choice == "human":
        return None
    s, text = state.slots, u.text
    if (
        state.awaiting != "confirm"
        and _switches(u, state)
        and not agenda.same_family(u.intent, agenda.intent_of(state))
    ):
        # A new request, not an answer: "SO-B 能开发票吗" while a return asks which order is the
        # invoice's order, never the return's.
        return None
    if slots.insult_in(text) and slots.reason_in(text) is None and slots.yes_no(text) is None:
        return _sorry_and_ask_again(state, ctx)
    pool = candidates(state.flow, str(s.get("kind", "")), ctx.orders)
    if state.awaiting == "order":
        number = choice[6:] if choice.startswith("order:") else ""
        named = slots.order_named(number or text, pool, number or u.entities.get("order_number"))
        if named is None and (index := slots.ordinal_in(text, len(pool[:MAX_BUTTONS]))) is not None:
            named = pool[index]
        if named is None and not _switches(u, state):
            product = str(u.entities.get("product", ""))
            matches = slots.match_items([_candidate(o) for o in pool], product, "", None) if product else []
            if matches and (len(matches) == 1 or matches[0][0] > matches[1][0]):
                return proceed(_with(state, order=matches[0][1].number, line=matches[0][2].line_no), ctx)
        if named is not None:
            return proceed(_with(state, order=named.number), ctx)
    elif state.awaiting == "line" and (order := ctx.order(s.get("order"))):
        line_no = int(choice[5:]) if choice.startswith("line:") and choice[5:].isdigit() else None
        items = [slots.Item(x.line_no, x.product_name, x.category) for x in order.lines]
        item = next((i for i in items if i.line_no == line_no), None) or slots.item_named(text, items)
        if item is not None:
            return proceed(_with(state, line=item.line_no), ctx)
    elif state.awaiting == "qty" and (order := ctx.order(s.get("order"))):
        line = next((x for x in order.lines if x.line_no == s.get("line")), None)
        most = line.quantity if line else 1
        qty = int(choice[4:]) if choice.startswith("qty:") and choice[4:].isdigit() else slots.quantity_in(text, most)
        if qty is not None and 1 <= qty <= most:
            found: dict[str, Any] = {"qty": qty}
            if "reason" not in s and (reason := slots.reason_in(text)):
                found["reason"] = reason
            return proceed(_with(state, **found), ctx)
    elif state.awaiting == "reason":
        reason = choice[7:] if choice.startswith("reason:") and choice[7:] in slots.REASONS else slots.reason_in(text)
        if reason is None and not _switches(u, state) and slots.yes_no(text) is None and _plausible(u):
            reason = "other"
        if reason is not None:
            described = text if not choice else ""
            return proceed(_with(state, reason=reason, description=described), ctx)
    elif state.awaiting == "address" and not _switches(u, state):
        address = _address(u, ctx.order(s.get("order")))
        if address is not None:
            return proceed(_with(state, address=address), ctx)
    elif state.awaiting == "confirm":
        decided = slots.yes_no(choice or text)
        if decided is True:
            return _act(state, ctx)
        if decided is False:
            return Turn([Reply("chat.abandoned", buttons=menu_buttons()[:4])], State())
        if not _switches(u, state):
            return Turn(
                [Reply("chat.confirm_reask", buttons=yes_no_buttons())],
                State(state.flow, s, "confirm", state.misses + 1),
            )
    if _switches(u, state):
        return None
    return _reask(state, ctx)


def _plausible(u: Understanding) -> bool:
    """Free text that can stand as the reason of a claim ("颜色和图片不一样"): not laughter or a hum,
    not small talk, not a message the model is sure is about something else entirely."""
    if slots.chit_chat(u.text) or slots.insult_in(u.text):
        return False
    if u.intent in SMALL_TALK and u.confidence >= SURE:
        return False
    return not (u.intent == Intent.OUT_OF_SCOPE and u.confidence >= CHIT_CHAT_SURE)


def _sorry_and_ask_again(state: State, ctx: Snapshot) -> Turn:
    """Rudeness in answer to a question: an apology, a person offered, and the question again."""
    again = proceed(State(state.flow, state.slots, "", state.misses), ctx)
    replies = list(again.replies)
    if replies and not any(b.value == "human" for b in replies[-1].buttons):
        replies[-1] = replace(replies[-1], buttons=(*replies[-1].buttons, human_button()))
    return Turn([Reply("chat.sorry"), *replies], again.state, again.action)


def _address(u: Understanding, order: Order | None) -> dict[str, str] | None:
    phone = str(u.entities.get("phone", ""))
    detail = u.text
    if phone:
        detail = detail.replace(phone, " ")
    detail = " ".join(detail.replace("，", " ").split()).strip(" ,")
    if len(detail) < 5:
        return None
    return {
        "name": order.recipient_name if order else "",
        "phone": phone or (order.recipient_phone if order else ""),
        "detail": detail[:400],
    }


def _reask(state: State, ctx: Snapshot) -> Turn:
    """The answer did not fit the question: say so and ask again; offer a person after misses."""
    misses = state.misses + 1
    again = proceed(State(state.flow, state.slots, "", misses), ctx)
    replies = [Reply("chat.not_understood_slot"), *again.replies]
    if misses >= MISSES_BEFORE_HUMAN:
        replies.append(Reply("chat.offer_human", buttons=(human_button(),)))
    return Turn(replies, again.state, again.action)


def _act(state: State, ctx: Snapshot) -> Turn:
    s, order = state.slots, ctx.order(state.slots.get("order"))
    if order is None:
        return Turn([Reply("chat.abandoned")], State())
    done = State(state.flow, s, "done", state.misses)
    action: Action
    if state.flow == "cancel":
        action = CancelOrder(order.number)
    elif state.flow == "address":
        address = s["address"]
        action = ChangeAddress(order.number, address["name"], address["phone"], address["detail"])
    else:
        action = SubmitCase(case_request(order, s))
    return Turn([], done, action)


# --- after the service acted ---------------------------------------------------------------------
def after(state: State, action: Action, outcome: Outcome, ctx: Snapshot) -> Turn:
    if isinstance(action, HandOff):
        if outcome.ok:
            ticket = outcome.ticket_number
            done = Reply("chat.handoff.done", {"ticket": ticket}, link=f"/support/{ticket}", link_label=ticket)
            return Turn([done], State())
        return Turn([Reply("chat.action_failed", {"message": outcome.message})], State())
    if not outcome.ok:
        if isinstance(action, PreviewCase) and (open_case := _open_on(ctx, action.request.order_number)):
            return Turn([_already_open(open_case)], State())
        key = "chat.case.not_eligible" if isinstance(action, PreviewCase) else "chat.action_failed"
        return Turn([Reply(key, {"message": outcome.message}, buttons=(human_button(),))], State())
    if isinstance(action, PreviewCase):
        return _offer(state, action, outcome, ctx)
    if isinstance(action, SubmitCase):
        link = f"/cases/{outcome.case_number}"
        created = Reply(
            "chat.case.created",
            {"case": outcome.case_number, "kind": T(f"kind.{action.request.kind}")},
            link=link,
            link_label=outcome.case_number,
        )
        nxt = outcome.case_status if outcome.case_status in NEXT_STEPS else "other"
        return Turn([created, Reply(f"chat.next.{nxt}")], State())
    replies = [Reply("chat.result", {"message": outcome.message})]
    if outcome.case_number:
        replies[0] = Reply(
            "chat.result",
            {"message": outcome.message},
            link=f"/cases/{outcome.case_number}",
            link_label=outcome.case_number,
        )
    return Turn(replies, State())


def _open_on(ctx: Snapshot, order_number: str) -> OpenCase | None:
    """The open case on the order a refused request was for: the reason it is refused (what is
    already claimed), which the customer should see and follow rather than a limit of zero."""
    return next((c for c in ctx.cases if c.order_number == order_number), None)


def _already_open(case: OpenCase) -> Reply:
    params: dict[str, str | T | L] = {
        "case": case.number,
        "order": case.order_number,
        "kind": T(f"kind.{case.kind}"),
        "status": T(f"case.{case.status}"),
    }
    return Reply(
        "chat.case.already_open",
        params,
        buttons=(human_button(),),
        link=f"/cases/{case.number}",
        link_label=case.number,
    )


NEXT_STEPS = frozenset({"awaiting_return", "refunding", "under_review", "approved", "completed"})


# A repair or an exchange moves no money, so its proposal names what happens instead of a refund.
SUMMARY_KEYS = {
    "invoice": "chat.case.summary_invoice",
    "repair": "chat.case.summary_repair",
    "exchange": "chat.case.summary_exchange",
}


def _offer(state: State, action: PreviewCase, outcome: Outcome, ctx: Snapshot) -> Turn:
    request, order = action.request, ctx.order(action.request.order_number)
    line_no = request.lines[0][0] if request.lines else None
    qty = request.lines[0][1] if request.lines else 0
    params: dict[str, str | T | L] = {
        "order": request.order_number,
        "product": product_of(order, line_no) if order else request.order_number,
        "qty": str(qty),
        "kind": T(f"kind.{request.kind}"),
        "reason": T(f"reason.{request.reason}"),
        "amount": money(outcome.amount, outcome.currency),
    }
    summary = Reply(SUMMARY_KEYS.get(request.kind, "chat.case.summary"), params)
    details = []
    if request.kind in RETURN_LEG and outcome.payer:
        details.append(Reply("chat.case.payer", {"payer": T(f"payer.{outcome.payer}")}))
    details.append(Reply("chat.case.auto" if outcome.approval == "auto" else "chat.case.review"))
    question = Reply("chat.case.confirm", buttons=yes_no_buttons("chat.button.submit"))
    return Turn([summary, *details, question], State(state.flow, state.slots, "confirm", state.misses))


# --- answers that need no action -----------------------------------------------------------------
def track(order: Order) -> list[Reply]:
    base = {"order": order.number, "product": product_of(order, None)}
    if order.status == "cancelled":
        return [Reply("chat.track.cancelled", base)]
    if order.delivered_on is not None or order.status in ("delivered", "completed"):
        day = order.delivered_on.isoformat() if order.delivered_on else "—"
        buttons = (Button(T("chat.intent.return_goods"), f"intent:return_goods@{order.number}"),)
        return [Reply("chat.track.delivered", {**base, "date": day}, buttons=buttons)]
    urge = (Button(T("chat.intent.urge_delivery"), f"intent:urge_delivery@{order.number}"),)
    if order.status in NOT_SHIPPED and not order.shipped:
        return [Reply("chat.track.not_shipped", {**base, "status": T(f"order.{order.status}")}, buttons=urge)]
    shipped: dict[str, str | T] = {
        **base,
        "carrier": order.carrier or "—",
        "tracking": order.tracking_number or "—",
        "node": T(f"node.{order.node}") if order.node else T("chat.node.none"),
        "place": order.place or "—",
        "eta": order.eta.isoformat() if order.eta else "—",
    }
    replies = [Reply("chat.track.shipped", shipped)]
    if order.late:
        replies.append(Reply("chat.track.late", buttons=urge))
    return replies


def refund_status(order: Order, ctx: Snapshot) -> list[Reply]:
    replies = [
        Reply(
            "chat.refund.line",
            {"order": order.number, "amount": money(r.amount, r.currency), "status": T(f"refund.{r.status}")},
        )
        for r in order.refunds[:3]
    ]
    for case in [c for c in ctx.cases if c.order_number == order.number][:3]:
        about: dict[str, str | T] = {
            "case": case.number,
            "kind": T(f"kind.{case.kind}"),
            "status": T(f"case.{case.status}"),
        }
        replies.append(Reply("chat.refund.case", about, link=f"/cases/{case.number}", link_label=case.number))
    return replies or [Reply("chat.refund.none", {"order": order.number}, buttons=(human_button(),))]
