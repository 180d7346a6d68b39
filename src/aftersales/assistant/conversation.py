"""Use cases of the chat: open or resume a customer's conversation, answer a message (understand →
dialogue → act through the other contexts' services → store and signal the page), read the
transcript, hand over to a person and take the agents' replies back.

A message is handled in three short steps rather than one long transaction: the customer's words
are stored first (so they are never lost, and their id keys the action's idempotency), then the
action runs in its own context's unit of work (cases and self-service open their own), then the
replies and the new state are stored. A failing action becomes a polite reply, never a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aftersales.assistant import agenda, dialogue, handoff, learning, slots
from aftersales.assistant import replies as texts
from aftersales.assistant import service as understanding
from aftersales.assistant.dialogue import L, Outcome, Reply
from aftersales.assistant.models import ChatMessage, Conversation
from aftersales.assistant.repository import ConversationsRepository
from aftersales.assistant.schemas import ButtonOut, ConversationOut, MessageOut
from aftersales.cases import self_service
from aftersales.cases import service as cases
from aftersales.cases.domain import FINAL, CaseKind, CaseReason
from aftersales.cases.schemas import CaseDraft, CaseLineIn
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock, masking
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Forbidden, Invalid, NotFound
from aftersales.kit.pagination import PageRequest
from aftersales.knowledge import service as knowledge
from aftersales.messaging import live
from aftersales.orders import service as orders
from aftersales.orders.schemas import AddressIn, OrderOut
from aftersales.refunds import service as refunds
from aftersales.understanding.intents import Understanding

log = structlog.get_logger(__name__)

MAX_TEXT = 1000
RECENT_ORDERS = 10
MAX_ACTIONS = 3
BOT_NAME = {"zh-CN": "小售", "en": "Assistant"}
HUMAN = ("waiting_human", "with_human")


def channel(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def _customer(principal: Principal) -> int:
    if principal.role is not Role.CUSTOMER or principal.customer_id is None:
        raise Forbidden("The chat is for signed-in customers.")
    return principal.customer_id


# --- reading -------------------------------------------------------------------------------------
def start_or_resume(db: Database, principal: Principal, lang: str = "zh-CN") -> ConversationOut:
    """The customer's open conversation, or a new one that starts with a welcome and the menu."""
    customer_id = _customer(principal)
    with db.read() as uow:
        existing = ConversationsRepository(uow.session).latest_open(customer_id)
        if existing is not None:
            return _view(uow.session, existing)
    lang = "en" if lang == "en" else "zh-CN"
    with db.write() as uow:
        now = clock.now()
        conversation = Conversation(
            customer_id=customer_id,
            user_id=principal.user_id or None,
            channel="web",
            language=lang,
            status="bot",
            state={},
            handed_off_to="",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(conversation)
        uow.session.flush()
        welcome = Reply("chat.welcome", {"name": principal.display_name}, buttons=dialogue.menu_buttons())
        _store_replies(uow.session, conversation, [welcome], lang)
        conversation.state = _with_buttons({}, [welcome], lang)
        uow.commit()
        return _view(uow.session, conversation)


def transcript(db: Database, principal: Principal, conversation_id: int) -> ConversationOut:
    with db.read() as uow:
        return _view(uow.session, _visible(uow.session, principal, conversation_id))


def _visible(session: Session, principal: Principal, conversation_id: int) -> Conversation:
    conversation = ConversationsRepository(session).for_viewer(conversation_id, principal)
    if conversation is None:
        raise NotFound(f"No conversation {conversation_id} that you can see.")
    return conversation


def _view(session: Session, conversation: Conversation) -> ConversationOut:
    messages = ConversationsRepository(session).messages(conversation.id)
    buttons = (conversation.state or {}).get("buttons", []) if conversation.status == "bot" else []
    return ConversationOut(
        id=conversation.id,
        status=conversation.status,
        language=conversation.language,
        handed_off_to=conversation.handed_off_to,
        messages=[_message_out(m) for m in messages],
        buttons=[ButtonOut(label=str(b["label"]), value=str(b["value"])) for b in buttons],
    )


def _message_out(message: ChatMessage) -> MessageOut:
    extra = message.entities or {}
    bot = message.sender == "bot"
    return MessageOut(
        id=message.id,
        sender=message.sender,
        sender_name=message.sender_name,
        # Stored as written (a hand-off carries it as evidence); shown with abusive words masked.
        text=masking.mask_abuse(message.text),
        created_at=message.created_at,
        key=str(extra.get("key", "")) if bot else "",
        link=str(extra.get("link", "")) if message.sender != "customer" else "",
        link_label=str(extra.get("link_label", "")) if message.sender != "customer" else "",
    )


# --- a customer's message ------------------------------------------------------------------------
def post_customer_message(
    db: Database, principal: Principal, conversation_id: int, text: str, *, choice: str = ""
) -> list[MessageOut]:
    """Answer one message (typed `text`, or a quick reply's `choice`); returns the new messages."""
    _customer(principal)
    text, choice = " ".join(text.split())[:MAX_TEXT], choice.strip()[:120]
    if not text and not choice:
        raise Invalid("Type a message, or pick one of the suggested replies.")
    with db.read() as uow:
        seen = _visible(uow.session, principal, conversation_id)
        state_json, language, status = dict(seen.state or {}), seen.language, seen.status
    if choice and not text:
        labels = {str(b["value"]): str(b["label"]) for b in state_json.get("buttons", [])}
        text = labels.get(choice) or _choice_label(choice, language)
    lang = language if choice else slots.language_of(text, language)
    lang = "en" if lang == "en" else "zh-CN"
    # Understood before the write lock is taken: the first message of a process may load the model.
    if status in HUMAN:
        u = Understanding(text=text, intent="", confidence=0.0)
    else:
        u = _understand(text) if not choice else Understanding(text=text, intent="out_of_scope", confidence=0.0)
    with db.write() as uow:
        conversation = _visible(uow.session, principal, conversation_id)
        if conversation.status in HUMAN:
            passed = _pass_to_agent(uow.session, conversation, text, principal)
            uow.commit()
            return [passed]
        said = _store(uow.session, conversation, "customer", principal.display_name, text, u)
        conversation.status, conversation.language = "bot", lang
        uow.commit()
    snapshot = _snapshot(db, principal, u, lang, typed=not choice)
    state = dialogue.State.from_json(state_json)
    turn = dialogue.respond(u, state, snapshot, choice=choice, parts=_parts(text) if not choice else ())
    replies = list(turn.replies)
    handoff: dialogue.HandOff | None = None
    # One action, or a few when a finished request lets a queued one act at once (agenda.go_on).
    for step in range(MAX_ACTIONS):
        if turn.action is None or isinstance(turn.action, dialogue.HandOff):
            break
        key = f"chat:{said.id}" + (f":{step}" if step else "")
        outcome = _execute(db, principal, turn.action, idempotency_key=key)
        after = dialogue.after_action(turn.state, turn.action, outcome, snapshot)
        replies, turn = replies + after.replies, after
    if isinstance(turn.action, dialogue.HandOff):
        handoff = turn.action
    with db.write() as uow:
        conversation = _visible(uow.session, principal, conversation_id)
        if handoff is not None:
            outcome = _hand_off(uow.session, principal, conversation, handoff, u)
            after = dialogue.after_action(turn.state, handoff, outcome, snapshot)
            replies, turn = replies + after.replies, after
        stored = _store_replies(uow.session, conversation, replies, lang)
        conversation.state = _with_buttons(turn.state.as_json(), replies, lang)
        uow.commit()
        return [_message_out(said), *(_message_out(m) for m in stored)]


def _choice_label(choice: str, lang: str) -> str:
    kind, _, value = choice.partition(":")
    if kind == "intent":
        return texts.word(dialogue.T(f"chat.intent.{value.partition('@')[0]}"), lang)
    if kind == "human":
        return texts.word(dialogue.T("chat.button.human"), lang)
    return value or choice


def _understand(text: str) -> Understanding:
    return understanding.understand(text)


def _parts(text: str) -> list[Understanding]:
    """The message's clauses understood one by one, when it has several ("退这双鞋，另一个包裹到哪了")."""
    return [understanding.understand(clause) for clause in agenda.clauses(text)]


# A keyword signature like other services' helpers, on purpose: it stores this context's own message.
def _store(
    session: Session,
    conversation: Conversation,
    sender: str,
    name: str,
    text: str,
    u: Understanding | None = None,
    extra: dict[str, Any] | None = None,
) -> ChatMessage:
    now = clock.now()
    message = ChatMessage(
        conversation_id=conversation.id,
        sender=sender,
        sender_name=name[:120],
        text=text,
        intent=u.intent if u is not None and u.confidence > 0 else "",
        confidence=round(u.confidence, 4) if u is not None and u.confidence > 0 else None,
        entities=(u.entities if u is not None else {}) | (extra or {}),
        created_at=now,
    )
    session.add(message)
    conversation.updated_at = now
    session.flush()
    audience = live.Audience.of(customer_id=conversation.customer_id, user_id=conversation.user_id)
    live.notify(session, channel(conversation.id), audience=audience)
    return message


def _store_replies(session: Session, conversation: Conversation, replies: list[Reply], lang: str) -> list[ChatMessage]:
    stored = []
    for reply in replies:
        extra: dict[str, Any] = {"key": reply.key}
        if reply.link:
            extra |= {"link": reply.link, "link_label": texts.word(reply.link_label, lang) or reply.link}
        stored.append(_store(session, conversation, "bot", BOT_NAME[lang], texts.render(reply, lang), extra=extra))
    return stored


def _with_buttons(state: dict[str, Any], replies: list[Reply], lang: str) -> dict[str, Any]:
    """The quick replies of the latest bot message, rendered, kept with the dialogue state."""
    last = next((r for r in reversed(replies) if r.buttons), None)
    buttons = [{"label": texts.word(b.label, lang), "value": b.value} for b in (last.buttons if last else ())]
    return {**state, "buttons": buttons}


# --- what the customer's orders look like to the dialogue ----------------------------------------
def _snapshot(db: Database, principal: Principal, u: Understanding, lang: str, *, typed: bool) -> dialogue.Snapshot:
    zone = get_settings().zone
    summaries = orders.search_orders(db, principal, "", PageRequest(1, RECENT_ORDERS)).items
    numbers = [s.number for s in summaries]
    mentioned = str(u.entities.get("order_number", ""))
    if mentioned and mentioned not in numbers:
        numbers.append(mentioned)
    found: list[dialogue.Order] = []
    for number in numbers:
        try:
            found.append(
                _order(orders.get_order(db, number, principal), refunds.refunds_for_order_number(db, number), zone)
            )
        except NotFound:
            continue
    open_cases = [
        dialogue.OpenCase(c.number, c.kind, c.status, c.order_number)
        for c in cases.list_cases(db, principal, PageRequest(1, 20)).items
        if c.status not in {s.value for s in FINAL}
    ]
    faq = None
    if typed and u.text:
        hits = knowledge.search(db, u.text, lang, 1)
        if hits:
            faq = dialogue.Faq(hits[0].title, hits[0].snippet, hits[0].url, hits[0].coverage)
    return dialogue.Snapshot(
        today=clock.now().astimezone(zone).date(), orders=tuple(found), cases=tuple(open_cases), faq=faq
    )


def _order(order: OrderOut, paid_back: list[Any], zone: Any) -> dialogue.Order:
    def day(moment: datetime | None) -> date | None:
        return moment.astimezone(zone).date() if moment else None

    shipment = order.shipments[-1] if order.shipments else None
    placed = day(order.placed_at)
    assert placed is not None
    return dialogue.Order(
        number=order.number,
        status=order.status,
        placed_on=placed,
        delivered_on=day(order.delivered_at),
        shipped=any(s.status != "pending" for s in order.shipments),
        total=f"{order.payable_total:.2f}",
        currency=order.currency,
        lines=tuple(dialogue.Line(x.line_no, x.product_name, x.category_code, x.quantity) for x in order.lines),
        carrier=shipment.carrier if shipment else "",
        tracking_number=shipment.tracking_number if shipment else "",
        node=(shipment.current_node or "") if shipment else "",
        place=shipment.current_place if shipment else "",
        eta=day(order.eta),
        late=order.late,
        recipient_name=order.recipient_name,
        recipient_phone=order.recipient_phone,
        address=f"{order.address_region} {order.address_detail}".strip(),
        refunds=tuple(dialogue.RefundInfo(f"{r.amount:.2f}", r.currency, r.status) for r in paid_back),
    )


# --- acting through the other contexts ---------------------------------------------------------
def _execute(db: Database, principal: Principal, action: dialogue.Action, *, idempotency_key: str) -> Outcome:
    """Run the dialogue's action through the owning context; refusals become an Outcome."""
    try:
        if isinstance(action, dialogue.PreviewCase):
            preview = cases.preview(db, _draft(action.request), principal)
            if not preview.eligible:
                return Outcome(False, L(preview.reason_zh or "不符合售后条件。", preview.reason_en or "Not eligible."))
            return Outcome(
                True,
                amount=f"{preview.amount:.2f}",
                currency=preview.currency,
                payer=preview.return_shipping_paid_by,
                approval=preview.approval,
            )
        if isinstance(action, dialogue.SubmitCase):
            case = cases.submit(db, _draft(action.request), principal, via="chat", idempotency_key=idempotency_key)
            return Outcome(
                True, case_number=case.number, case_status=case.status, amount=f"{case.requested_amount:.2f}"
            )
        if isinstance(action, dialogue.CancelOrder):
            result = self_service.cancel_order(db, action.order_number, principal)
        elif isinstance(action, dialogue.ChangeAddress):
            address = AddressIn(name=action.name, phone=action.phone, region="", detail=action.detail)
            result = self_service.change_address(db, action.order_number, address, principal)
        elif isinstance(action, dialogue.Urge):
            result = self_service.urge_delivery(db, action.order_number, principal)
        else:
            raise Invalid(f"The assistant cannot do {type(action).__name__} here.")
        return Outcome(result.done, L(result.message_zh, result.message_en), case_number=result.case_number or "")
    except AppError as exc:
        log.info("assistant.action_refused", action=type(action).__name__, error=exc.message)
        zh = str(exc.details.get("reason_zh") or "") or f"这一步没能完成：{exc.message}"
        return Outcome(False, L(zh, exc.message))
    except ValidationError as exc:
        log.info("assistant.action_invalid", action=type(action).__name__, error=str(exc))
        return Outcome(
            False,
            L("信息不完整或格式不对，请检查后再试。", "Some details are missing or malformed; please check them."),
        )


def _draft(request: dialogue.CaseRequest) -> CaseDraft:
    return CaseDraft(
        order_number=request.order_number,
        kind=CaseKind(request.kind),
        reason=CaseReason(request.reason),
        lines=[CaseLineIn(line_no=line_no, quantity=qty) for line_no, qty in request.lines],
        description=request.description,  # empty: the timeline names the reason in its reader's language
    )


# A handed-off chat's ticket subject, in the customer's language (they see it on their support page).
HANDOFF_SUBJECTS = {
    "customer_asked": ("在线咨询：客户要求人工服务", "Chat: the customer asked for a person"),
    "complaint": ("在线咨询：客户投诉", "Chat: the customer has a complaint"),
    "not_understood": ("在线咨询：智能助手未能理解", "Chat: the assistant did not understand"),
    "refused": ("在线咨询：客户需要人工处理", "Chat: the customer wants a person to handle it"),
}


# --- people --------------------------------------------------------------------------------------
def _hand_off(
    session: Session, principal: Principal, conversation: Conversation, action: dialogue.HandOff, u: Understanding
) -> Outcome:
    """Open (or join) the conversation's ticket with the whole transcript, in this transaction."""
    desk = handoff.desk()
    repo = ConversationsRepository(session)
    history = repo.messages(conversation.id)
    state = dialogue.State.from_json(conversation.state)
    request = _request_of(state, history)
    intent = request or next((m.intent for m in reversed(history) if m.sender == "customer" and m.intent), None)
    entities: dict[str, Any] = {}
    for message in history:
        if message.sender == "customer":
            entities |= {k: v for k, v in (message.entities or {}).items() if k not in entities}
    order_number = str(state.slots.get("order") or state.focus or entities.get("order_number") or "") or None
    lines = [{"role": m.sender, "name": m.sender_name, "text": m.text, "at": m.created_at.isoformat()} for m in history]
    zh, en = HANDOFF_SUBJECTS.get(action.reason, HANDOFF_SUBJECTS["customer_asked"])
    lang = _lang(conversation)
    # The subject names what the customer wanted ("维修"): the desk's classifier reads it first.
    wanted = f" · {texts.word(dialogue.T(f'chat.intent.{request}'), lang)}" if request else ""
    summary = (en if lang == "en" else zh) + wanted + (f" · {order_number}" if order_number else "")
    try:
        # Keyword arguments written out on purpose: look-alike calls elsewhere pass other things.
        number = desk.open_from_chat(
            session,
            principal,
            conversation_id=conversation.id,
            transcript=lines,
            intent=intent,
            entities=entities,
            order_number=order_number,
            summary=summary,
        )
    except AppError as exc:
        return Outcome(
            False, L(f"暂时无法转接人工：{exc.message}", f"We could not reach a person just now: {exc.message}")
        )
    conversation.status, conversation.handed_off_to = "waiting_human", str(number)
    learning.record_handoff(session, conversation.id)  # with the customer's consent only
    return Outcome(True, ticket_number=str(number))


def _request_of(state: dialogue.State, history: Sequence[ChatMessage]) -> str:
    """What the conversation is about, for the desk: the flow in progress, else the last request
    served, else the latest confident request the customer made; never the last message's mood
    ("转人工", "你好笨")."""
    if intent := agenda.intent_of(state):
        return intent
    if state.last in dialogue.FLOWS:
        return state.last
    confident = (
        m.intent
        for m in reversed(history)
        if m.sender == "customer" and m.intent in dialogue.FLOWS and (m.confidence or 0) >= dialogue.SURE
    )
    return next(confident, "")


def _pass_to_agent(session: Session, conversation: Conversation, text: str, principal: Principal) -> MessageOut:
    """While a person has the conversation the bot stays quiet; the words go on to the ticket."""
    desk = handoff.desk()
    message = _store(session, conversation, "customer", principal.display_name, text)
    desk.add_chat_message(session, conversation.id, text)
    return _message_out(message)


def hand_off_now(db: Database, principal: Principal, conversation_id: int) -> list[MessageOut]:
    """The "talk to a person" button: the same as choosing it among the quick replies."""
    return post_customer_message(db, principal, conversation_id, "", choice="human")


def on_agent_reply(
    db: Database, conversation_id: int, message_id: str, author_name: str, body: str, ticket_number: str = ""
) -> bool:
    """An agent answered on the ticket: show it in the chat once (by the ticket message's id)."""
    with db.write() as uow:
        repo = ConversationsRepository(uow.session)
        conversation = repo.by_id(conversation_id, lock=not db.is_sqlite)
        if conversation is None or repo.agent_message_seen(conversation_id, str(message_id)):
            return False
        # "Reply and solve" publishes the solve first: the bot has already taken over and said its
        # closing line, which then belongs after the agent's last words, not before them.
        solved = bool(ticket_number) and (conversation.state or {}).get("solved_ticket") == ticket_number
        closing = repo.latest(conversation_id) if solved and conversation.status == "bot" else None
        if closing is not None and (closing.entities or {}).get("key") == "chat.back_to_bot":
            uow.session.delete(closing)
            uow.session.flush()
        else:
            closing = None
        extra = {"source_id": str(message_id)} | ({"ticket_number": ticket_number} if ticket_number else {})
        _store(uow.session, conversation, "agent", author_name or "客服", body[:4000], extra=extra)
        if closing is not None:
            _store_replies(uow.session, conversation, [_closing()], _lang(conversation))
        elif not solved:
            conversation.status = "with_human"
        if ticket_number and not conversation.handed_off_to:
            conversation.handed_off_to = ticket_number
        uow.commit()
        return True


def on_ticket_solved(db: Database, conversation_id: int, ticket_number: str = "") -> bool:
    """The agent solved the ticket: the bot takes the conversation back with a closing line."""
    with db.write() as uow:
        conversation = ConversationsRepository(uow.session).by_id(conversation_id, lock=not db.is_sqlite)
        if conversation is None or conversation.status not in HUMAN:
            return False
        conversation.status = "bot"
        lang = _lang(conversation)
        _store_replies(uow.session, conversation, [_closing()], lang)
        conversation.state = _with_buttons({"solved_ticket": ticket_number}, [_closing()], lang)
        uow.commit()
        return True


def _closing() -> Reply:
    return Reply("chat.back_to_bot", buttons=dialogue.menu_buttons())


def _lang(conversation: Conversation) -> str:
    return conversation.language if conversation.language in BOT_NAME else "zh-CN"


__all__ = [
    "channel",
    "hand_off_now",
    "on_agent_reply",
    "on_ticket_solved",
    "post_customer_message",
    "start_or_resume",
    "transcript",
]
