"""The assistant's dialogue: slot-filling flows over the customer's own orders. Pure: no database,
no clock, no model; the service passes in what was understood, the stored state and a snapshot
of the customer's orders, and executes the one Action a turn may ask for.

    turn = respond(understanding, state, snapshot, choice=None)
    turn.replies   # what the bot says (text keys + params) with quick-reply buttons
    turn.action    # at most one thing to do: PreviewCase, SubmitCase, CancelOrder, ...
    turn.state     # stored on the conversation for the next message
    after_action(turn.state, turn.action, outcome, snapshot)  # the replies once it was done

Rules kept here: nothing irreversible (a cancel, a case that returns goods or moves money)
happens without an explicit yes to a question that named it; an out-of-scope or unsure message
gets an answer from the help center, a clarifying question or a person, never an action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from aftersales.assistant import slots
from aftersales.understanding.intents import Intent, Understanding

SURE = 0.6  # below this an action intent is confirmed with a clarifying question first
FAQ_COVERAGE = 0.5  # a help article answers when it covers at least this share of the question
MISSES_BEFORE_HUMAN = 2  # the second message in a row not understood goes to a person
CLARIFY_CHOICES = 2  # a clarifying question offers the two likeliest requests (and a person)
MAX_BUTTONS = 5


# --- what the service passes in --------------------------------------------------------------------
# Same dataclass shape as understanding's Understanding on purpose: the dialogue is pure and takes
# plain values, so it keeps its own input types instead of the service layer's.
@dataclass(frozen=True, slots=True)
class Line:
    line_no: int
    product_name: str
    category: str
    quantity: int


@dataclass(frozen=True, slots=True)
class RefundInfo:
    amount: str
    currency: str
    status: str  # requested, submitted, succeeded, failed


@dataclass(frozen=True, slots=True)
class Order:
    number: str
    status: str  # orders.domain.OrderStatus values
    placed_on: date
    delivered_on: date | None
    shipped: bool
    total: str
    currency: str
    lines: tuple[Line, ...]
    carrier: str = ""
    tracking_number: str = ""
    node: str = ""  # the last logistics node, e.g. "out_for_delivery"
    place: str = ""
    eta: date | None = None
    late: bool = False
    recipient_name: str = ""
    recipient_phone: str = ""
    address: str = ""
    refunds: tuple[RefundInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class OpenCase:
    number: str
    kind: str
    status: str
    order_number: str


@dataclass(frozen=True, slots=True)
class Faq:
    title: str
    snippet: str
    url: str
    coverage: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    today: date
    orders: tuple[Order, ...] = ()  # newest first
    cases: tuple[OpenCase, ...] = ()
    faq: Faq | None = None  # the best help article for this message, if any

    def order(self, number: str | None) -> Order | None:
        return next((o for o in self.orders if o.number == number), None)


# --- what the dialogue says ------------------------------------------------------------------------
# Each message, parameter and action below is its own small frozen dataclass on purpose, although many
# share a shape: the dialogue matches on the type, so PreviewCase and SubmitCase must stay distinct.
@dataclass(frozen=True, slots=True)
class T:
    """A parameter to translate (a text key) rather than show as it is."""

    key: str


@dataclass(frozen=True, slots=True)
class L:
    """A parameter already written in both languages (a service's own message)."""

    zh: str
    en: str


Param = str | T | L


@dataclass(frozen=True, slots=True)
class Button:
    label: Param
    value: str  # posted back as the `choice` of the next message: "order:SO1", "yes", "intent:track_order"


@dataclass(frozen=True, slots=True)
class Reply:
    key: str
    params: Mapping[str, Param] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    link: str = ""  # a case page or a help article
    link_label: Param = ""


# --- what the service does ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CaseRequest:
    order_number: str
    kind: str  # cases.domain.CaseKind values
    reason: str  # cases.domain.CaseReason values
    lines: tuple[tuple[int, int], ...]  # (line_no, quantity)
    description: str = ""


@dataclass(frozen=True, slots=True)
class PreviewCase:
    request: CaseRequest


@dataclass(frozen=True, slots=True)
class SubmitCase:
    request: CaseRequest


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_number: str


@dataclass(frozen=True, slots=True)
class ChangeAddress:
    order_number: str
    name: str
    phone: str
    detail: str


@dataclass(frozen=True, slots=True)
class Urge:
    order_number: str


@dataclass(frozen=True, slots=True)
class HandOff:
    reason: str  # customer_asked, complaint, not_understood, refused


Action = PreviewCase | SubmitCase | CancelOrder | ChangeAddress | Urge | HandOff


@dataclass(frozen=True, slots=True)
class Outcome:
    """What executing an Action gave: done or refused, with the service's own sentence."""

    ok: bool
    message: L = L("", "")
    case_number: str = ""
    case_status: str = ""
    amount: str = ""
    currency: str = "CNY"
    payer: str = ""  # who pays the return shipping (a preview)
    approval: str = ""  # auto or review (a preview)
    ticket_number: str = ""


# --- the conversation's memory -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class State:
    flow: str = ""  # case, cancel, address, urge, track, refund_status
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: str = ""  # order, line, qty, reason, address, confirm
    misses: int = 0
    # The order the conversation is about (the last one the bot named): "the headphones" or "那个"
    # in a later message means this order first, before the customer's other orders.
    focus: str = ""
    # What the customer talked about ({"product", "product_category"}), kept when no order is named
    # yet: "where is my washing machine" then "it is broken" is about the washing machine.
    subject: dict[str, str] = field(default_factory=dict)
    # Requests waiting their turn (agenda.py): the second request of a message, or a flow the
    # customer left for another one, to be offered back.
    queue: tuple[dict[str, Any], ...] = ()
    # Orders just listed or named, in that order ("the first one", "the other one"), and the last
    # request served, which a follow-up ("那个呢") repeats on another order.
    seen: tuple[str, ...] = ()
    last: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "slots": dict(self.slots),
            "awaiting": self.awaiting,
            "misses": self.misses,
            "focus": self.focus,
            "subject": dict(self.subject),
            "queue": [dict(item) for item in self.queue],
            "seen": list(self.seen),
            "last": self.last,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> State:
        data = data or {}
        return cls(
            flow=str(data.get("flow") or ""),
            slots=dict(data.get("slots") or {}),
            awaiting=str(data.get("awaiting") or ""),
            misses=int(data.get("misses") or 0),
            focus=str(data.get("focus") or ""),
            subject={str(k): str(v) for k, v in dict(data.get("subject") or {}).items()},
            queue=tuple(dict(item) for item in data.get("queue") or () if isinstance(item, dict)),
            seen=tuple(str(n) for n in data.get("seen") or ()),
            last=str(data.get("last") or ""),
        )

    def context(self) -> State:
        """What outlives a flow: the conversation's memory without the flow itself."""
        return State(focus=self.focus, subject=self.subject, queue=self.queue, seen=self.seen, last=self.last)


@dataclass(frozen=True, slots=True)
class Turn:
    replies: list[Reply]
    state: State
    action: Action | None = None


# Intents that start a flow, with the flow's fixed slots.
FLOWS: dict[str, tuple[str, dict[str, Any]]] = {
    Intent.RETURN_GOODS: ("case", {"kind": "return_refund"}),
    Intent.REFUND: ("case", {"kind": "refund_only"}),
    Intent.EXCHANGE: ("case", {"kind": "exchange"}),
    Intent.REPAIR: ("case", {"kind": "repair"}),
    Intent.PRICE_PROTECTION: ("case", {"kind": "price_protection", "reason": "price_drop"}),
    Intent.INVOICE: ("case", {"kind": "invoice", "reason": "invoice_needed"}),
    Intent.CANCEL_ORDER: ("cancel", {}),
    Intent.CHANGE_ADDRESS: ("address", {}),
    Intent.URGE_DELIVERY: ("urge", {}),
    Intent.TRACK_ORDER: ("track", {}),
    Intent.REFUND_STATUS: ("refund_status", {}),
}
HANDOFF_INTENTS = frozenset({Intent.HUMAN_AGENT, Intent.COMPLAINT})
FAQ_INTENTS = frozenset(
    {Intent.POLICY_QUESTION, Intent.DELIVERY_OPTIONS, Intent.PAYMENT, Intent.ACCOUNT, Intent.PRE_SALES}
)
MENU = (
    Intent.TRACK_ORDER,
    Intent.RETURN_GOODS,
    Intent.EXCHANGE,
    Intent.REFUND_STATUS,
    Intent.CANCEL_ORDER,
    Intent.CHANGE_ADDRESS,
    Intent.URGE_DELIVERY,
    Intent.INVOICE,
)
NOT_SHIPPED = frozenset({"created", "paid", "fulfilling"})
# Pending questions a message can answer; "preview" and "done" only last while the service acts.
ASKING = frozenset({"order", "line", "qty", "reason", "address", "confirm"})
RECEIVED = frozenset({"delivered", "completed"})


def candidates(flow: str, kind: str, orders: tuple[Order, ...]) -> list[Order]:
    """The customer's orders this flow can act on, newest first."""
    live = [o for o in orders if o.status != "cancelled"]
    if flow == "case":
        if kind in ("return_refund", "exchange", "repair"):
            return [o for o in live if o.delivered_on is not None or o.status in RECEIVED]
        return [o for o in live if o.status != "created"]
    if flow == "cancel":
        return [o for o in live if o.status in NOT_SHIPPED or o.status == "shipped"]
    if flow == "address":
        return [o for o in live if o.status in NOT_SHIPPED and not o.shipped]
    if flow == "urge":
        return [o for o in live if o.status in ("paid", "fulfilling", "shipped")]
    if flow == "refund_status":
        with_refunds = [o for o in orders if o.refunds]
        return with_refunds or list(orders)
    return live


# --- the turn --------------------------------------------------------------------------------------
def respond(
    u: Understanding, state: State, ctx: Snapshot, *, choice: str = "", parts: Sequence[Understanding] = ()
) -> Turn:
    """The bot's answer to one customer message (typed `text`, or a quick-reply `choice`); `parts`
    are the message's clauses understood one by one, when it has several (agenda.clauses)."""
    from aftersales.assistant import agenda

    u, state, ctx, queued = agenda.arrange(u, state, ctx, choice, parts)
    turn = remember(_respond(u, state, ctx, choice), state, ctx, u)
    served = u.intent if u.intent in FLOWS and (u.confidence >= SURE or choice) else ""
    turn = agenda.announce(agenda.forget_served(turn, served), queued)
    return agenda.go_on(turn, ctx)


def remember(turn: Turn, before: State, ctx: Snapshot, u: Understanding | None = None) -> Turn:
    """What the turn leaves for the next message: the order under discussion (the last one the bot
    named, else the flow's, else the one before), the orders just listed or named, the last request
    served, what the customer was talking about, and the requests still waiting."""
    st = turn.state
    named = [str(r.params["order"]) for r in turn.replies if isinstance(r.params.get("order"), str)]
    focus = before.focus
    for number in (*reversed(named), st.slots.get("order"), before.focus):
        if number and ctx.order(str(number)) is not None:
            focus = str(number)
            break
    listed = tuple(b.value[6:] for r in turn.replies for b in r.buttons if b.value.startswith("order:"))
    seen = listed or tuple(dict.fromkeys((*before.seen, *named, *([focus] if focus else []))))[-MAX_BUTTONS:]
    intent = str(st.slots.get("intent", ""))
    last = intent if st.flow and intent in FLOWS else (st.last or before.last)
    said = {k: str(u.entities[k]) for k in ("product", "product_category") if u and u.entities.get(k)}
    # A product the customer names is the subject; an order the bot names instead replaces it.
    subject = said or st.subject or ({} if focus != before.focus and named else before.subject)
    queue = st.queue or before.queue
    state = replace(st, focus=focus, seen=seen, last=last, subject=subject, queue=queue)
    return replace(turn, state=state)


def _respond(u: Understanding, state: State, ctx: Snapshot, choice: str) -> Turn:
    from aftersales.assistant import agenda

    if choice == "human":
        return Turn([], State(), HandOff("customer_asked"))
    if choice.startswith("intent:"):
        # A menu button, optionally bound to an order ("intent:urge_delivery@SO1"). Right after a
        # clarifying question it is about what the customer had just said ("洗衣机到哪了").
        intent, _, number = choice[7:].partition("@")
        entities = {**u.entities, "order_number": number} if number else u.entities
        if state.misses and not number:
            entities = {**state.subject, **entities}
        u = replace(u, intent=intent, confidence=1.0, entities=entities)
        state = replace(state.context(), misses=state.misses)
    if state.flow and state.awaiting in ASKING:
        # Imported here: flows.py builds on this module's types.
        from aftersales.assistant import flows

        answered = flows.answer(u, state, ctx, choice)
        if answered is not None:
            return answered
        was = agenda.intent_of(state)
        dropped = slots.yes_no(u.text) is False  # "算了，我的快递到哪了": the flow is given up, not left
        if (
            not choice
            and was
            and not dropped
            and u.intent not in HANDOFF_INTENTS
            and not agenda.same_family(u.intent, was)
        ):
            # A new request mid-flow: served now, the flow it interrupts offered back afterwards.
            rest = replace(state.context(), queue=(*state.queue, agenda.left(state)), misses=state.misses)
            turn = start(u, rest, ctx)
            lead = [Reply("chat.switched", {"was": T(f"chat.intent.{was}")})] if u.intent in FLOWS else []
            return Turn([*lead, *turn.replies], replace(turn.state, queue=rest.queue), turn.action)
    return start(u, state, ctx)


def start(u: Understanding, state: State, ctx: Snapshot) -> Turn:
    """A message that answers no pending question: pick what to do from the intent."""
    from aftersales.assistant import agenda, flows

    trigger = slots.trigger_in(u.text)
    intent = u.intent
    claim = intent in (Intent.EXCHANGE, Intent.REPAIR, Intent.RETURN_GOODS, Intent.REFUND) and u.confidence >= SURE
    if slots.insult_in(u.text) and not trigger and intent not in HANDOFF_INTENTS and not claim:
        # Rudeness is heard, not acted on: an apology and a person, the count of misses unchanged.
        return Turn([sorry()], State(misses=state.misses))
    if state.subject and slots.points_back(u.text) and not _names_something(u):
        u = replace(u, entities={**u.entities, **state.subject})  # "it is broken": the thing just talked about
    if trigger and not claim:
        kind = "refund_only" if trigger == "missing_item" else "return_refund"
        claimed = {"kind": kind, "reason": trigger, "intent": intent}
        return flows.begin("case", claimed, u, ctx, state.misses, focus=state.focus)
    if intent in HANDOFF_INTENTS and u.confidence >= SURE / 2:
        return Turn([], State(), HandOff("complaint" if intent == Intent.COMPLAINT else "customer_asked"))
    if intent in FLOWS and u.confidence >= SURE:
        flow, fixed = FLOWS[Intent(intent)]
        found: dict[str, Any] = {**fixed, "intent": intent}
        if trigger:
            found["reason"] = trigger
        elif flow == "case" and "reason" not in found and (reason := slots.reason_in(u.text)):
            found["reason"] = reason
        return flows.begin(flow, found, u, ctx, state.misses, focus=state.focus)
    if intent in SMALL_TALK_KEYS:
        return Turn([small_talk(intent)], State())
    if intent == Intent.FEEDBACK:
        return Turn([Reply("chat.feedback_thanks")], State())
    if intent == Intent.CHANGE_ORDER and u.confidence >= SURE:
        return Turn(
            [
                Reply(
                    "chat.change_order_help",
                    buttons=(Button(T("chat.intent.cancel_order"), "intent:cancel_order"), human_button()),
                )
            ],
            State(),
        )
    if (followed := agenda.follow_up(u, state, ctx)) is not None:
        return followed
    return not_sure(u, state, ctx)


def _names_something(u: Understanding) -> bool:
    return any(u.entities.get(k) for k in ("product", "product_category", "order_number"))


def sorry() -> Reply:
    return Reply("chat.sorry", buttons=(human_button(), *menu_buttons()[:3]))


SMALL_TALK_KEYS = {Intent.GREETING: "chat.greeting", Intent.THANKS: "chat.thanks", Intent.GOODBYE: "chat.goodbye"}


def small_talk(intent: str) -> Reply:
    key = SMALL_TALK_KEYS[Intent(intent)]
    return Reply(key, buttons=menu_buttons() if intent == Intent.GREETING else ())


def not_sure(u: Understanding, state: State, ctx: Snapshot) -> Turn:
    """Out of scope, a question for the help center, or an action we are not sure of: an article
    if one answers well, else a clarifying question, and a person after repeated misses."""
    faq = ctx.faq
    if faq is not None and faq.coverage >= FAQ_COVERAGE and u.intent not in FLOWS:
        reply = Reply(
            "chat.faq_answer",
            {"title": faq.title, "snippet": faq.snippet},
            buttons=(human_button(),),
            link=faq.url,
            link_label=faq.title,
        )
        return Turn([reply], State())
    misses = state.misses + 1
    if u.intent in FAQ_INTENTS:
        return Turn([Reply("chat.no_answer", buttons=(human_button(), *menu_buttons()[:3]))], State(misses=misses))
    if misses >= MISSES_BEFORE_HUMAN:
        # Not understood twice in a row: a person takes over, with the transcript; never a guess.
        return Turn([Reply("chat.handoff.not_understood")], State(), HandOff("not_understood"))
    guesses = [name for name, _ in u.ranking if name in FLOWS]
    if u.intent in FLOWS and u.intent not in guesses:
        guesses.insert(0, u.intent)
    buttons = tuple(Button(T(f"chat.intent.{name}"), f"intent:{name}") for name in guesses[:CLARIFY_CHOICES])
    buttons = buttons or menu_buttons()
    return Turn([Reply("chat.clarify", buttons=(*buttons[:MAX_BUTTONS], human_button()))], State(misses=misses))


def menu_buttons() -> tuple[Button, ...]:
    return tuple(Button(T(f"chat.intent.{intent.value}"), f"intent:{intent.value}") for intent in MENU)


def human_button() -> Button:
    return Button(T("chat.button.human"), "human")


def yes_no_buttons(yes_key: str = "chat.button.yes") -> tuple[Button, ...]:
    return (Button(T(yes_key), "yes"), Button(T("chat.button.no"), "no"))


def after_action(state: State, action: Action, outcome: Outcome, ctx: Snapshot) -> Turn:
    """The replies once the service has executed the turn's action."""
    from aftersales.assistant import agenda, flows

    turn = remember(flows.after(state, action, outcome, ctx), state, ctx)
    # A person takes over after a hand-off: nothing queued is started behind their back.
    return turn if isinstance(action, HandOff) else agenda.go_on(turn, ctx)


def money(amount: str, currency: str) -> str:
    symbol = {"CNY": "¥", "USD": "$"}.get(currency, f"{currency} ")
    return f"{symbol}{amount}"


__all__ = [
    "Action",
    "Button",
    "CancelOrder",
    "CaseRequest",
    "ChangeAddress",
    "Faq",
    "HandOff",
    "L",
    "Line",
    "OpenCase",
    "Order",
    "Outcome",
    "PreviewCase",
    "RefundInfo",
    "Reply",
    "Snapshot",
    "State",
    "SubmitCase",
    "T",
    "Turn",
    "Urge",
    "after_action",
    "respond",
]
