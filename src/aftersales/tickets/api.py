"""Tickets JSON routes under /api/v1: open (any integration or the customer's own app), read,
search, reply, act, classify."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query

from aftersales.cases.schemas import CaseDraft
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.tickets import service
from aftersales.tickets.domain import TicketStatus
from aftersales.tickets.schemas import ActionIn, ClassificationIn, MessageIn, TicketIn, TicketOut, TicketPage
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


@router.post("/tickets", response_model=TicketOut, status_code=201, responses=ERRORS, summary="Open a ticket")
def open_ticket(
    data: TicketIn,
    idempotency_key: Annotated[
        str | None, Header(max_length=100, description="the same key twice opens one ticket")
    ] = None,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*OPENERS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return service.open_ticket(db, data, principal, idempotency_key)


@router.get("/tickets", response_model=TicketPage, responses=ERRORS, summary="Tickets you may see")
def list_tickets(
    scope: Annotated[str, Query(pattern="^(all|active|mine|unassigned|group|at_risk)$")] = "all",
    status: TicketStatus | None = None,
    group: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*READERS, scope=Scope.TICKETS_READ)),
) -> TicketPage:
    return service.list_tickets(
        db, principal, scope=scope, status=status.value if status else "", group_key=group, text=q, page=page, size=size
    )


@router.get("/tickets/{number}", response_model=TicketOut, responses=ERRORS, summary="One ticket with its thread")
def get_ticket(
    number: Number,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*READERS, scope=Scope.TICKETS_READ)),
) -> TicketOut:
    return service.get_ticket(db, number, principal)


@router.post(
    "/tickets/{number}/messages",
    response_model=TicketOut,
    status_code=201,
    responses=ERRORS,
    summary="Reply, add an internal note, or (customers) write again",
)
def post_message(
    number: Number,
    data: MessageIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*READERS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return service.post_message(db, number, data, principal)


@router.post(
    "/tickets/{number}/actions",
    response_model=TicketOut,
    responses=ERRORS,
    summary="Wait for customer, solve, close, reopen, assign/transfer, escalate, merge",
)
def act(
    number: Number,
    data: ActionIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ACTORS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return service.act(db, number, data, principal)


@router.put(
    "/tickets/{number}/classification",
    response_model=TicketOut,
    responses=ERRORS,
    summary="Correct responsibility × scenario (and type/priority); kept for accuracy",
)
def reclassify(
    number: Number,
    data: ClassificationIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ACTORS, scope=Scope.TICKETS_WRITE)),
) -> TicketOut:
    return service.reclassify(db, number, data, principal)


@router.post(
    "/tickets/{number}/case",
    response_model=TicketOut,
    status_code=201,
    responses=ERRORS,
    summary="Open an after-sales case for the ticket's order (policies decide)",
)
def start_case(
    number: Number,
    draft: CaseDraft,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*STAFF, scope=(Scope.TICKETS_WRITE, Scope.CASES_WRITE))),
) -> TicketOut:
    service.start_case(db, number, draft, principal)
    return service.get_ticket(db, number, principal)
