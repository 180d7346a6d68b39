"""Learning from hand-offs: the customer's consent, the labelled examples kept from hand-offs and
agents' corrections, a supervisor's approval, and the retraining that uses approved examples.

Only conversations whose customer said yes to "may this conversation be used to improve the
assistant?" give examples; saying no later removes the examples already kept. An example is
trained on only once a supervisor or an admin approved it, and never when it repeats a line of
the frozen test set (the overlap check of understanding.evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aftersales.assistant.models import ChatMessage, Conversation, LearningConsent, LearningExample
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.understanding import retraining
from aftersales.understanding.intents import INTENTS

LABELLERS = frozenset({Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN})
REVIEWERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
HANDOFF, AGENT_CORRECTION = "handoff", "agent_correction"
STATUSES = ("unlabelled", "pending", "approved", "rejected")
# Asking for a person is how a hand-off starts, not what the customer came for.
NOT_A_REQUEST = frozenset({"human_agent"})


@dataclass(frozen=True, slots=True)
class ExampleOut:
    id: int
    conversation_id: int
    text: str
    predicted_intent: str
    corrected_intent: str
    source: str
    status: str
    labelled_by: str
    reviewed_by: str
    created_at: datetime


def _out(row: LearningExample) -> ExampleOut:
    return ExampleOut(
        row.id,
        row.conversation_id,
        row.text,
        row.predicted_intent,
        row.corrected_intent,
        row.source,
        row.status,
        row.labelled_by,
        row.reviewed_by,
        row.created_at,
    )


# --- consent -------------------------------------------------------------------------------------
def _own_conversation(session: Session, principal: Principal, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if (
        conversation is None
        or principal.role is not Role.CUSTOMER
        or principal.customer_id is None
        or conversation.customer_id != principal.customer_id
    ):
        raise NotFound("No such conversation.")
    return conversation


def consent_of(db: Database, conversation_id: int) -> bool | None:
    """True or False as the customer answered; None when not answered (which counts as no)."""
    with db.read() as uow:
        row = uow.session.get(LearningConsent, conversation_id)
        return None if row is None else bool(row.consented)


def set_consent(db: Database, principal: Principal, conversation_id: int, consented: bool) -> bool:
    """The customer's answer; a no also deletes what was kept from this conversation."""
    with db.write() as uow:
        _own_conversation(uow.session, principal, conversation_id)
        row = uow.session.get(LearningConsent, conversation_id)
        if row is None:
            row = LearningConsent(conversation_id=conversation_id, consented=consented, decided_at=clock.now())
            uow.session.add(row)
        elif row.consented != consented:
            row.consented, row.decided_at = consented, clock.now()
        if not consented:
            uow.session.execute(delete(LearningExample).where(LearningExample.conversation_id == conversation_id))
        uow.commit()
        return consented


def _consent_at(session: Session, conversation_id: int) -> datetime | None:
    row = session.get(LearningConsent, conversation_id)
    return row.decided_at if row is not None and row.consented else None


# --- examples ------------------------------------------------------------------------------------
def _request_message(session: Session, conversation_id: int) -> ChatMessage | None:
    """The customer's latest typed request: what the bot understood (or not) before the hand-off."""
    rows = session.scalars(
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "customer")
        .order_by(ChatMessage.id.desc())
        .limit(20)
    )
    # A quick-reply button is stored with no confidence: the customer chose, the model did not read.
    typed = [m for m in rows if m.text.strip() and m.confidence]
    # "转人工" after a request is not the request; alone, it is all the customer said.
    return next((m for m in typed if m.intent not in NOT_A_REQUEST), typed[0] if typed else None)


def record_handoff(session: Session, conversation_id: int) -> int | None:
    """At a hand-off, in its transaction: keep the request the bot could not serve as an
    unlabelled example, if the customer consented. Returns the example's id (None: nothing kept)."""
    consent_at = _consent_at(session, conversation_id)
    message = _request_message(session, conversation_id) if consent_at else None
    if consent_at is None or message is None:
        return None
    existing = session.scalar(select(LearningExample).where(LearningExample.message_id == message.id))
    if existing is not None:  # a second hand-off on the same words keeps one example
        return existing.id
    row = LearningExample(
        conversation_id=conversation_id,
        message_id=message.id,
        text=message.text,
        predicted_intent=message.intent,
        corrected_intent="",
        source=HANDOFF,
        status="unlabelled",
        consent_at=consent_at,
        labelled_by="",
        reviewed_by="",
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row.id


def correction_subject(db: Database, principal: Principal, conversation_id: int) -> ExampleOut | None:
    """What the desk form corrects: the conversation's kept example, or the customer's latest
    request as an unsaved one (id 0); None when there is no request, or no consent."""
    _require(principal, LABELLERS)
    with db.read() as uow:
        if uow.session.get(Conversation, conversation_id) is None:
            raise NotFound("No such conversation.")
        if _consent_at(uow.session, conversation_id) is None:
            return None
        message = _request_message(uow.session, conversation_id)
        if message is None:
            return None
        row = uow.session.scalar(select(LearningExample).where(LearningExample.message_id == message.id))
        if row is not None:
            return _out(row)
        return ExampleOut(0, conversation_id, message.text, message.intent, "", "", "", "", "", message.created_at)


def correct_intent(db: Database, principal: Principal, conversation_id: int, intent: str) -> ExampleOut:
    """An agent says what the customer wanted. Labels the hand-off's example (or keeps the
    customer's latest request as an agent's correction); it waits for a supervisor's approval."""
    _require(principal, LABELLERS)
    if intent not in INTENTS:
        raise Invalid("Choose one of the assistant's intents.")
    with db.write() as uow:
        if uow.session.get(Conversation, conversation_id) is None:
            raise NotFound("No such conversation.")
        consent_at = _consent_at(uow.session, conversation_id)
        if consent_at is None:
            raise Conflict("The customer has not agreed that this conversation may be used; nothing was kept.")
        message = _request_message(uow.session, conversation_id)
        if message is None:
            raise Conflict("The customer wrote no request the assistant read; nothing to correct.")
        row = uow.session.scalar(select(LearningExample).where(LearningExample.message_id == message.id))
        if row is None:
            row = LearningExample(
                conversation_id=conversation_id,
                message_id=message.id,
                text=message.text,
                predicted_intent=message.intent,
                source=AGENT_CORRECTION,
                consent_at=consent_at,
                reviewed_by="",
                created_at=clock.now(),
            )
            uow.session.add(row)
        # A new label is a new claim: it is reviewed again, even if an earlier one was approved.
        row.corrected_intent, row.status = intent, "pending"
        row.labelled_by, row.labelled_at = principal.display_name, clock.now()
        row.reviewed_by, row.reviewed_at = "", None
        uow.session.flush()
        out = _out(row)
        uow.commit()
        return out


def examples(db: Database, principal: Principal, status: str = "pending", limit: int = 200) -> list[ExampleOut]:
    _require(principal, REVIEWERS)
    if status not in STATUSES:
        raise Invalid("Unknown status.")
    with db.read() as uow:
        rows = uow.session.scalars(
            select(LearningExample).where(LearningExample.status == status).order_by(LearningExample.id).limit(limit)
        )
        return [_out(row) for row in rows]


def counts(db: Database, principal: Principal) -> dict[str, int]:
    _require(principal, REVIEWERS)
    with db.read() as uow:
        found = dict(
            uow.session.execute(
                select(LearningExample.status, func.count(LearningExample.id)).group_by(LearningExample.status)
            ).all()
        )
        return {status: int(found.get(status, 0)) for status in STATUSES}


def review(db: Database, principal: Principal, example_id: int, approve: bool) -> ExampleOut:
    """A supervisor approves (to be trained on) or rejects a labelled example. An example that
    repeats a frozen test line is refused: the test set must stay unseen."""
    _require(principal, REVIEWERS)
    with db.write() as uow:
        row = uow.session.get(LearningExample, example_id)
        if row is None:
            raise NotFound("No such example.")
        if row.status == "unlabelled" or not row.corrected_intent:
            raise Conflict("An agent has not said yet what the customer wanted.")
        if approve and retraining.frozen_clashes([row.text]):
            raise Conflict(
                "This example repeats a message of the frozen test set, which is never trained on; reject it."
            )
        row.status = "approved" if approve else "rejected"
        row.reviewed_by, row.reviewed_at = principal.display_name, clock.now()
        uow.session.flush()
        out = _out(row)
        uow.commit()
        return out


def approved(db: Database) -> list[tuple[str, str]]:
    """(text, intent) of every approved example, for retraining."""
    with db.read() as uow:
        rows = uow.session.execute(
            select(LearningExample.text, LearningExample.corrected_intent)
            .where(LearningExample.status == "approved")
            .order_by(LearningExample.id)
        ).all()
        return [(text, intent) for text, intent in rows]


def retrain(db: Database, today: date, *, promote: bool = True) -> retraining.Outcome:
    """The base training text plus the approved examples: live only if no headline number drops."""
    return retraining.retrain(approved(db), today, promote=promote)


def _require(principal: Principal, roles: frozenset[Role]) -> None:
    if principal.role not in roles:
        raise Forbidden("You may not do this.")


def ticket_of(db: Database, conversation_id: int) -> str:
    """The number of the ticket the conversation was handed to ("" if none)."""
    with db.read() as uow:
        conversation = uow.session.get(Conversation, conversation_id)
        return conversation.handed_off_to if conversation is not None else ""
