"""Use cases of the tickets context: open a ticket from any channel, read and search, reply, act,
correct the classification, macros, links and merges, one-click order and case actions, presence.

Other contexts call `open_from_chat` / `add_chat_message` (the assistant's hand-off) and the
handlers here react to SLA and routing events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from aftersales.cases import service as cases
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.kit.ids import refuse_other_request, request_fingerprint
from aftersales.notifications import service as notifications
from aftersales.sla import service as sla
from aftersales.tickets import classification, handover, merging, placement, suggestions, taxonomy, views, workflow
from aftersales.tickets.domain import (
    ACTIVE,
    DESK_ROLES,
    TICKET_STAFF,
    Channel,
    MessageKind,
    MetricFacts,
    Priority,
    TicketAction,
    TicketStatus,
)
from aftersales.tickets.intake import (
    open_in,
    open_in_without_unseen_order,
    open_with_message,
    signal,
    state_promise,
    ticket_channel,
)
from aftersales.tickets.models import ClassificationCorrection, Ticket, TicketTag
from aftersales.tickets.repository import TicketsRepository
from aftersales.tickets.schemas import (
    ActionIn,
    ClassificationIn,
    Intake,
    MessageIn,
    SurveyFacts,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketSummary,
)

__all__ = [
    "Intake",
    "TicketIn",
    "act",
    "add_chat_message",
    "get_ticket",
    "list_tickets",
    "metric_facts",
    "open_from_chat",
    "open_ticket",
    "open_ticket_ages",
    "post_message",
    "raise_for_order_in",
    "reclassify",
    "ticket_channel",
]


def _stale(number: str) -> Conflict:
    return Conflict(f"Ticket {number} was changed by someone else at the same time. Reload and try again.")


def _load(session: Session, number: str, viewer: Principal, *, lock: bool = False) -> Ticket:
    ticket = TicketsRepository(session).by_number(number, viewer, lock=lock)
    if ticket is None:
        raise NotFound(f"No ticket '{number}' that you can see.")
    return ticket


def _current(ticket: Ticket) -> dict[str, Any]:
    """The state a refused writer should reload to, carried in the 409's body."""
    return {"number": ticket.number, "status": ticket.status, "version": ticket.version}


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is not None and version != ticket.version:
        raise Conflict(
            f"Ticket {ticket.number} changed since you loaded it (version {ticket.version}, yours {version}). "
            "Reload and try again.",
            current=_current(ticket),
        )


def _require_staff(viewer: Principal) -> None:
    if viewer.role not in TICKET_STAFF:
        raise Forbidden("Only service staff can do that on a ticket.")


# --- arrival ---------------------------------------------------------------------------------------
def open_ticket(db: Database, data: TicketIn, by: Principal, idempotency_key: str | None = None) -> TicketOut:
    """A ticket from the web form (customers), an agent's phone note or the API (integrations)."""
    if by.role is Role.CUSTOMER and data.channel is not Channel.WEB:
        raise Invalid("Customers open tickets through the web form (channel 'web').")
    if by.role is Role.CUSTOMER and (data.ticket_type or data.priority):
        raise Invalid("Type and priority are decided by the service desk; leave them empty.")
    if by.role not in (Role.CUSTOMER, Role.INTEGRATION) and by.role not in DESK_ROLES:
        raise Forbidden("Your role cannot open tickets.")
    if by.role is not Role.CUSTOMER and not (data.requester_email or data.requester_phone or data.order_number):
        raise Invalid("Give the requester's email, phone or an order number so the ticket reaches someone.")
    key = f"{by.user_id}:{idempotency_key}" if idempotency_key else None
    fingerprint = request_fingerprint("tickets.open", data.model_dump(mode="json")) if key else None
    intake = Intake(
        subject=data.subject,
        body=data.body,
        channel=data.channel,
        customer_id=by.customer_id if by.role is Role.CUSTOMER else None,
        requester_name=data.requester_name,
        requester_email=str(data.requester_email or ""),
        requester_phone=data.requester_phone,
        order_number=data.order_number.strip(),
        case_number=data.case_number.strip(),
        ticket_type=data.ticket_type,
        priority=data.priority,
        tags=data.tags,
        external_key=key,
        author_name=data.requester_name or by.display_name,
    )
    try:
        with db.write() as uow:
            if (replayed := _replayed(uow.session, key, str(idempotency_key), fingerprint, by)) is not None:
                return replayed
            ticket, message = open_with_message(uow.session, intake, by)
            ticket.idempotency_fingerprint = fingerprint
            uow.commit()
            if ticket.priority != Priority.LOW.value:
                return views.ticket_view(uow.session, ticket, by, opened_with=message)
            number = ticket.number
    except IntegrityError:
        # The same Idempotency-Key raced with itself: the first one won; return it.
        with db.read() as uow:
            if (replayed := _replayed(uow.session, key, str(idempotency_key), fingerprint, by)) is not None:
                return replayed
        raise
    suggestions.suggest_articles(db, number)
    return get_ticket(db, number, by)


def _replayed(
    session: Session, key: str | None, idempotency_key: str, fingerprint: str | None, by: Principal
) -> TicketOut | None:
    """The ticket this Idempotency-Key already opened; refused when the key came with another request."""
    if not key or (existing := TicketsRepository(session).by_external_key(key)) is None:
        return None
    refuse_other_request(
        idempotency_key, existing.idempotency_fingerprint, str(fingerprint), f"ticket {existing.number}"
    )
    return views.ticket_view(session, existing, by)


def raise_for_order_in(session: Session, order_number: str, subject: str, body: str, key: str) -> tuple[str, bool]:
    """A person must act on an order (a parcel presumed lost, damaged, going back to the sender):
    a note on the order's ticket still being worked on when there is one, else a new ticket, in
    the caller's transaction. Returns (ticket number, opened a new one). The caller keeps the
    number with its own record, in the same transaction, so it asks once per key."""
    repo = TicketsRepository(session)
    existing = repo.by_external_key(f"system:{key}")
    if existing is not None:
        return existing.number, False
    active = repo.active_for_order(order_number)
    if active is not None:
        workflow.add_message(session, active, kind=MessageKind.NOTE, body=f"{subject}\n{body}", by=SYSTEM,
                             channel=Channel(active.channel))  # fmt: skip
        signal(session, active)
        return active.number, False
    intake = Intake(
        subject=subject,
        body=body,
        channel=Channel.API,
        order_number=order_number,
        external_key=f"system:{key}",
        author_name="proactive service",
    )
    return open_in(session, intake, SYSTEM).number, True


# Same signature as assistant.handoff.Desk.open_from_chat on purpose: this is the adapter behind that port.
def open_from_chat(
    session: Session,
    principal: Principal,
    *,
    conversation_id: int,
    transcript: list[dict[str, str]],
    intent: str | None,
    entities: dict[str, Any],
    order_number: str | None,
    summary: str,
    words: str = "",
) -> str:
    """The assistant hands a conversation to a human: a chat ticket carrying the transcript, intent
    and entities, or the conversation's open ticket when there already is one."""
    repo = TicketsRepository(session)
    existing = repo.active_for_conversation(conversation_id)
    lines = "\n".join(f"{t.get('name') or t.get('role', '?')}: {t.get('text', '')}" for t in transcript)
    if existing is not None:
        workflow.customer_writes(session, existing, summary or "…", principal, Channel.CHAT)
        signal(session, existing)
        return existing.number
    intake = Intake(
        subject=summary,  # a catalogue key ("handoff.subject.complaint"): each reader's language
        # The customer's own words (the classifier reads them); the whole transcript goes to a note.
        # `words` says the subject in the conversation's language, so the classifier reads them.
        body="\n".join([words, *(t.get("text", "") for t in transcript if t.get("role") == "customer")]).strip()
        or summary,
        channel=Channel.CHAT,
        customer_id=principal.customer_id,
        order_number=order_number or "",
        conversation_id=conversation_id,
        intent=intent or "",
        entities=entities,
        author_name=principal.display_name or principal.username,
    )
    ticket = open_in_without_unseen_order(session, intake, principal)
    if lines:  # the conversation so far, for the staff only (the customer has it in the chat)
        workflow.add_message(session, ticket, kind=MessageKind.NOTE, body=lines, by=SYSTEM, channel=Channel.CHAT)
    return ticket.number


def add_chat_message(session: Session, conversation_id: int, text: str) -> None:
    """A customer's chat line after the hand-off reaches the ticket (and reopens it if needed)."""
    ticket = TicketsRepository(session).active_for_conversation(conversation_id)
    if ticket is None:
        return
    workflow.customer_writes(session, ticket, text, SYSTEM, Channel.CHAT, author_name=ticket.requester_name)
    signal(session, ticket)


# --- reads ------------------------------------------------------------------------------------------
def get_ticket(db: Database, number: str, viewer: Principal) -> TicketOut:
    with db.read() as uow:
        return views.ticket_view(uow.session, _load(uow.session, number, viewer), viewer)


# Filters alike the desk and knowledge pages' forms on purpose: each names the filters of its own list.
def list_tickets(
    db: Database,
    viewer: Principal,
    *,
    scope: str = "all",
    status: str = "",
    group_key: str = "",
    text: str = "",
    page: int = 1,
    size: int = 50,
) -> TicketPage:
    """Queues: `mine`, `unassigned`, `group` (with group_key), `active`, `at_risk` (SLA warned or
    breached, most urgent first) or `all`."""
    if scope == "at_risk":
        with db.read() as uow:
            repo = TicketsRepository(uow.session)
            ids = sla.at_risk(uow.session, limit=200)
            rows = [t for t in repo.visible_by_ids(ids, viewer) if t.status in {s.value for s in ACTIVE}]
            return TicketPage(items=views.summaries(uow.session, rows, viewer), total=len(rows), page=1, size=len(rows))
    statuses = (
        [status]
        if status
        else ([s.value for s in ACTIVE] if scope in ("mine", "unassigned", "group", "active") else None)
    )
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        rows, total = repo.search(
            viewer,
            statuses=statuses,
            assignee_user_id=viewer.user_id if scope == "mine" else None,
            unassigned=scope == "unassigned",
            group_key=group_key if scope == "group" else "",
            text=text.strip(),
            page=max(page, 1),
            size=min(max(size, 1), 200),
        )
        return TicketPage(items=views.summaries(uow.session, rows, viewer), total=total, page=page, size=size)


def customer_tickets(
    db: Database, customer_id: int, exclude_number: str, limit: int, viewer: Principal
) -> list[TicketSummary]:
    """The customer's other tickets (the sidebar's history), as far as the viewer may see them."""
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        exclude = repo.by_number_unscoped(exclude_number) if exclude_number else None
        rows = repo.recent_for_customer(customer_id, exclude.id if exclude else 0, limit, viewer)
        return views.summaries(uow.session, rows, viewer)


# --- changes ------------------------------------------------------------------------------------------
def post_message(db: Database, number: str, data: MessageIn, by: Principal) -> TicketOut:
    with db.write() as uow:
        session = uow.session
        ticket = _load(session, number, by, lock=True)
        _check_version(ticket, data.version)
        if by.role is Role.CUSTOMER or data.kind is MessageKind.CUSTOMER:
            if by.role is not Role.CUSTOMER:
                raise Invalid("Staff write replies or notes; kind 'customer' is the requester's own message.")
            if TicketStatus(ticket.status) is TicketStatus.CLOSED:
                raise Conflict(f"Ticket {number} is closed; open a new one and mention {number}.")
            workflow.customer_writes(session, ticket, data.body, by, Channel.WEB)
        else:
            _require_staff(by)
            if data.kind is MessageKind.NOTE:
                workflow.add_message(
                    session, ticket, kind=MessageKind.NOTE, body=data.body, by=by, channel=Channel(ticket.channel)
                )
            else:
                workflow.reply(session, ticket, data.body, by, data.then)
        signal(session, ticket)
        return _commit_and_view(uow, ticket, by)


def _commit_and_view(uow: Any, ticket: Ticket, by: Principal) -> TicketOut:
    try:
        uow.commit()
    except StaleDataError as exc:
        raise _stale(ticket.number) from exc
    return views.ticket_view(uow.session, ticket, by)


def act(db: Database, number: str, data: ActionIn, by: Principal) -> TicketOut:
    _require_staff(by)
    with db.write() as uow:
        session = uow.session
        ticket = _load(session, number, by, lock=True)  # a second writer waits, then gets the 409
        _check_version(ticket, data.version)
        current = _current(ticket)
        try:
            match data.action:
                case TicketAction.ESCALATE:
                    handover.escalate(session, ticket, by, data.reason)
                case TicketAction.ASSIGN:
                    handover.assign(session, ticket, by, data.assignee_user_id, data.group_key, data.reason)
                case TicketAction.MERGE:
                    target = _load(session, data.merge_into.strip(), by)
                    merging.merge(session, ticket, target, by, confirmed=data.confirm_other_customer)
                case TicketAction.WAIT_FOR_CUSTOMER | TicketAction.SOLVE | TicketAction.CLOSE | TicketAction.REOPEN:
                    workflow.transition(session, ticket, data.action, by, data.reason)
                case _:
                    raise Invalid(f"Use the messages endpoint for '{data.action.value}'.")
        except Conflict as exc:  # refused by the state it is in: say which
            exc.details.setdefault("current", current)
            raise
        signal(session, ticket)
        return _commit_and_view(uow, ticket, by)


def _check_axes(responsibility: str, scenario: str) -> None:
    axes = taxonomy.load()
    if not axes.has_responsibility(responsibility):
        raise Invalid(f"Unknown responsibility '{responsibility}'; choose one of {', '.join(axes.responsibility_ids)}.")
    if not axes.has_scenario(scenario):
        raise Invalid(f"Unknown scenario '{scenario}'; choose one of {', '.join(axes.scenario_ids)}.")


def reclassify(db: Database, number: str, data: ClassificationIn, by: Principal) -> TicketOut:
    """An agent corrects the two axes (and type/priority); the correction is kept for accuracy."""
    _require_staff(by)
    _check_axes(data.responsibility, data.scenario)
    with db.write() as uow:
        session = uow.session
        ticket = _load(session, number, by, lock=True)
        _check_version(ticket, data.version)
        if (data.responsibility, data.scenario) != (ticket.responsibility, ticket.scenario):
            session.add(
                ClassificationCorrection(
                    ticket_id=ticket.id,
                    predicted_responsibility=ticket.auto_classification.get("responsibility", ticket.responsibility),
                    predicted_scenario=ticket.auto_classification.get("scenario", ticket.scenario),
                    corrected_responsibility=data.responsibility,
                    corrected_scenario=data.scenario,
                    text_sample=ticket.subject[:200],
                    by_user_id=by.user_id or None,
                    created_at=clock.now(),
                )
            )
            ticket.responsibility, ticket.scenario = data.responsibility, data.scenario
        retarget = False
        if data.ticket_type and data.ticket_type.value != ticket.ticket_type:
            ticket.ticket_type, retarget = data.ticket_type.value, True
        if data.priority and data.priority.value != ticket.priority:
            ticket.priority, retarget = data.priority.value, True
            name = by.display_name or by.username
            ticket.priority_reasons = [*ticket.priority_reasons, {"zh": f"由{name}调整", "en": f"set by {name}"}]
        if retarget:
            sla.retarget(session, ticket.id, ticket.ticket_type, ticket.priority, clock.now(), channel=ticket.channel)
            state_promise(session, ticket)
        ticket.updated_at = clock.now()
        workflow.record(
            session, ticket, "ticket.classified", by, ticket.status, f"{data.responsibility} · {data.scenario}"
        )
        signal(session, ticket)
        return _commit_and_view(uow, ticket, by)


def set_tags(db: Database, number: str, add: list[str], remove: list[str], by: Principal) -> TicketOut:
    _require_staff(by)
    with db.write() as uow:
        ticket = _load(uow.session, number, by)
        have = {t.tag for t in ticket.tags}
        for tag in add:
            tag = tag.strip()[:80]
            if tag and tag not in have:
                ticket.tags.append(TicketTag(tag=tag))
                have.add(tag)
        for tag_row in [t for t in ticket.tags if t.tag in set(remove)]:
            ticket.tags.remove(tag_row)
        ticket.updated_at = clock.now()
        return _commit_and_view(uow, ticket, by)


def link_tickets(db: Database, number: str, other: str, by: Principal) -> TicketOut:
    _require_staff(by)
    with db.write() as uow:
        ticket = _load(uow.session, number, by)
        merging.link(uow.session, ticket, _load(uow.session, other.strip(), by), by)
        return _commit_and_view(uow, ticket, by)


def link_case(db: Database, number: str, case_number: str, by: Principal) -> None:
    """After a one-click case from the ticket: the ticket shows the case and a note says so."""
    with db.write() as uow:
        ticket = _load(uow.session, number, by)
        ticket.case_number = case_number
        workflow.add_message(
            uow.session,
            ticket,
            kind=MessageKind.NOTE,
            body=f"note.case_opened_from_ticket:{case_number}",  # a key: each agent reads it in their language
            by=by,
            channel=Channel(ticket.channel),
        )
        workflow.record(uow.session, ticket, "ticket.case_opened", by, ticket.status, case_number)
        signal(uow.session, ticket)
        _commit_and_view(uow, ticket, by)


def start_case(db: Database, number: str, draft: cases.CaseDraft, by: Principal) -> str:
    """One click from the ticket: a return, refund, exchange or compensation through the cases
    service (its policies decide); idempotent per ticket, order and kind."""
    _require_staff(by)
    ticket = get_ticket(db, number, by)
    if not ticket.order_number:
        raise Invalid("Link the ticket to an order first: the case needs one.")
    key = f"ticket:{number}:{draft.kind.value}:{','.join(str(line.line_no) for line in draft.lines)}"
    case = cases.submit(
        db, draft.model_copy(update={"order_number": ticket.order_number}), by, via="agent", idempotency_key=key
    )
    link_case(db, number, case.number, by)
    return case.number


def arrivals_per_interval(
    db: Database, since: datetime, until: datetime, seconds: int
) -> list[tuple[datetime, str, str, int]]:
    """Tickets that came in [since, until), counted per interval of `seconds` (by its start), skill
    group and channel: the staffing forecast's history of contacts."""
    with db.read() as uow:
        rows = TicketsRepository(uow.session).arrivals_per_interval(since, until, seconds)
    return [(since + timedelta(seconds=i * seconds), group, channel, n) for i, group, channel, n in rows]


def classification_accuracy(db: Database) -> classification.AccuracyReport:
    with db.read() as uow:
        rows = TicketsRepository(uow.session).corrections()
        return classification.accuracy(
            (
                {"responsibility": r.predicted_responsibility, "scenario": r.predicted_scenario},
                {"responsibility": r.corrected_responsibility, "scenario": r.corrected_scenario},
            )
            for r in rows
        )


def survey_facts(db: Database, number: str) -> SurveyFacts | None:
    """A ticket as the satisfaction survey reads it (None when there is no such ticket)."""
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        ticket = repo.by_number_unscoped(number)
        if ticket is None:
            return None
        return SurveyFacts(
            ticket_id=ticket.id,
            number=ticket.number,
            channel=ticket.channel,
            status=ticket.status,
            customer_id=ticket.customer_id,
            merchant_id=ticket.merchant_id,
            order_number=ticket.order_number,
            case_number=ticket.case_number,
            solved_at=ticket.solved_at,
            agent_ids=repo.public_repliers(ticket.id),
        )


# --- events from other contexts ------------------------------------------------------------------------
def on_sla_breached(db: Database, ticket_id: int, metric: str, key: str = "") -> None:
    """Escalate an open ticket (the board hears it live); each active supervisor gets an alert, once per event."""
    with db.write() as uow:
        ticket = TicketsRepository(uow.session).by_id(ticket_id)
        if ticket is None or TicketStatus(ticket.status) not in ACTIVE:
            return
        handover.escalate_on_breach(uow.session, ticket, metric)
        params = {"ticket": ticket.number, "metric": metric}
        uow.commit()
    supervisors = [(u.id, u.locale) for u in identity.list_users(db, Role.SUPERVISOR.value) if u.active]
    notifications.alert_staff(db, supervisors, "staff.sla_breached", params, key or f"sla.breached:{ticket_id}")


def on_sla_warning(db: Database, ticket_id: int, metric: str) -> None:
    with db.write() as uow:
        ticket = TicketsRepository(uow.session).by_id(ticket_id)
        if ticket is None or TicketStatus(ticket.status) not in ACTIVE:
            return
        workflow.record(uow.session, ticket, "ticket.sla_warning", SYSTEM, ticket.status, metric)
        signal(uow.session, ticket)
        uow.commit()


def on_assigned(db: Database, ref: str, user_id: int | None, group_key: str) -> None:
    with db.write() as uow:
        placement.apply_assignment(uow.session, ref, user_id, group_key)
        uow.commit()


def on_reassigned(
    db: Database, ref: str, by_user_id: int, from_user_id: int | None, to_user_id: int | None, note: str
) -> None:
    """A supervisor moved the ticket on the routing board: its history says who, from whom to whom."""
    with db.write() as uow:
        ticket = TicketsRepository(uow.session).by_number_unscoped(ref)
        by = identity.principal_in(uow.session, by_user_id)
        if ticket is None or by is None:
            return
        names = identity.display_names_in(uow.session, [u for u in (from_user_id, to_user_id) if u])
        moved = f"{names.get(from_user_id or 0, '—')} → {names.get(to_user_id or 0, '—')}"
        workflow.record(uow.session, ticket, "ticket.reassigned", by, ticket.status, f"{moved} {note}".strip())
        uow.commit()


def attachment_file(db: Database, number: str, attachment_id: int, viewer: Principal) -> tuple[str, str, str] | None:
    """(path, filename, content type) of an attachment on a ticket the viewer can see."""
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        ticket = _load(uow.session, number, viewer)
        found = repo.attachment(ticket.id, attachment_id)
        if found is None:
            return None
        if viewer.role is Role.CUSTOMER and found.message.kind == MessageKind.NOTE.value:
            return None
        return found.path, found.filename, found.content_type


def metric_facts(session: Session, ticket_id: int | None = None, number: str = "") -> MetricFacts | None:
    """A ticket's dimensions for reports (analytics hears the ticket's events and files them)."""
    repo = TicketsRepository(session)
    ticket = repo.by_id(ticket_id) if ticket_id is not None else repo.by_number_unscoped(number)
    if ticket is None:
        return None
    return MetricFacts(
        ticket_id=ticket.id,
        number=ticket.number,
        channel=ticket.channel,
        assignee_user_id=ticket.assignee_user_id,
        group_key=ticket.group_key,
        merchant_id=ticket.merchant_id,
        ticket_type=ticket.ticket_type,
        scenario=ticket.scenario,
        customer_id=ticket.customer_id,
        order_number=ticket.order_number,
        created_at=clock.ensure_utc(ticket.created_at),
        agent_replies=repo.agent_reply_count(ticket.id),
    )


def open_ticket_ages(db: Database, now: datetime, limit: int = 200_000) -> list[float]:
    """Hours each ticket still waiting on the desk has been open (backlog by age)."""
    with db.read() as uow:
        arrived = TicketsRepository(uow.session).open_created_at(limit)
    return [(now - clock.ensure_utc(at)).total_seconds() / 3600 for at in arrived]
