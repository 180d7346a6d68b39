"""Tickets JSON routes under /api/v1: open (any integration or the customer's own app), read,
search, reply, act, classify."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request

from aftersales.cases.schemas import CaseDraft
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.tickets import service
from aftersales.tickets.domain import TicketStatus
from aftersales.tickets.schemas import (
    ActionIn,
    ClassificationIn,
    MessageIn,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketSummary,
)
from aftersales.web import i18n
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["tickets"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such ticket in your scope"},
    409: {"description": "the ticket's state or version refuses it; the message says why"},
    422: {"description": "invalid input; the message names the field"},
}
STAFF = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)
OPENERS = (Role.CUSTOMER, Role.INTEGRATION, *STAFF)
READERS = (*OPENERS, Role.MERCHANT, Role.ARBITRATOR)
ACTORS = (*STAFF, Role.MERCHANT, Role.ARBITRATOR)
Number = Annotated[str, Path(max_length=24)]
Shown = TypeVar("Shown", bound=TicketSummary)


def _in_words(ticket: Shown, request: Request) -> Shown:
    """A subject the system wrote is stored as a catalogue key; API readers get it in words, in the
    language of their Accept-Language header (the platform's default without one)."""
    words = i18n.subject_words(ticket.subject, request.state.lang, ticket.order_number)
    return ticket if words == ticket.subject else ticket.model_copy(update={"subject": words})


@router.post("/tickets", response_model=TicketOut, status_code=201, responses=ERRORS, summary="Open a ticket")
def open_ticket(
    data: TicketIn,
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(max_length=100, description="the same key twice opens one ticket")
    ] = None,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*OPENERS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return _in_words(service.open_ticket(db, data, principal, idempotency_key), request)


@router.get("/tickets", response_model=TicketPage, responses=ERRORS, summary="Tickets you may see")
def list_tickets(
    request: Request,
    scope: Annotated[str, Query(pattern="^(all|active|mine|unassigned|group|at_risk)$")] = "all",
    status: TicketStatus | None = None,
    group: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*READERS, scope=Scope.TICKETS_READ)),
) -> TicketPage:
    found = service.list_tickets(
        db, principal, scope=scope, status=status.value if status else "", group_key=group, text=q, page=page, size=size
    )
    return found.model_copy(update={"items": [_in_words(t, request) for t in found.items]})


@router.get("/tickets/{number}", response_model=TicketOut, responses=ERRORS, summary="One ticket with its thread")
def get_ticket(
    number: Number,
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*READERS, scope=Scope.TICKETS_READ)),
) -> TicketOut:
    return _in_words(service.get_ticket(db, number, principal), request)


@router.post(
    "/tickets/{number}/messages",
    response_model=TicketOut,
    status_code=201,
    responses=ERRORS,
    summary="Reply, add an internal note, or (customers) write again",
)
def post_message(
    number: Number,
    request: Request,
    data: MessageIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*READERS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return _in_words(service.post_message(db, number, data, principal), request)


@router.post(
    "/tickets/{number}/actions",
    response_model=TicketOut,
    responses=ERRORS,
    summary="Wait for customer, solve, close, reopen, assign/transfer, escalate, merge",
)
def act(
    number: Number,
    request: Request,
    data: ActionIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ACTORS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return _in_words(service.act(db, number, data, principal), request)


@router.put(
    "/tickets/{number}/classification",
    response_model=TicketOut,
    responses=ERRORS,
    summary="Correct responsibility × scenario (and type/priority); kept for accuracy",
)
def reclassify(
    number: Number,
    request: Request,
    data: ClassificationIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ACTORS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return _in_words(service.reclassify(db, number, data, principal), request)


@router.post(
    "/tickets/{number}/case",
    response_model=TicketOut,
    status_code=201,
    responses=ERRORS,
    summary="Open an after-sales case for the ticket's order (policies decide)",
)
def start_case(
    number: Number,
    request: Request,
    draft: CaseDraft,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*STAFF, scope=(Scope.TICKETS_WRITE, Scope.CASES_WRITE))),
) -> TicketOut:
    service.start_case(db, number, draft, principal)
    return _in_words(service.get_ticket(db, number, principal), request)
