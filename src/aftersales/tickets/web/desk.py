"""Pages of the agent workspace: queues with live SLA clocks, the ticket with its sidebar and one-click
actions. The customer's support pages are in `support`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseKind, CaseReason
from aftersales.cases.schemas import CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid
from aftersales.kit.pagination import PageRequest
from aftersales.messaging import live
from aftersales.orders import service as orders
from aftersales.routing import service as routing
from aftersales.tickets import handoffs, macros, presence, service, taxonomy
from aftersales.tickets.domain import Channel, MessageKind, Priority, TicketAction, TicketStatus, TicketType
from aftersales.tickets.intake import agent_channel, ticket_channel
from aftersales.tickets.schemas import ActionIn, ClassificationIn, MessageIn, TicketIn
from aftersales.web import i18n
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.forms import submit, version_of
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
DESK = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN, Role.MERCHANT)
SCOPES = ("mine", "unassigned", "active", "at_risk", "all")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(*channels: str, viewer: Principal) -> StreamingResponse:
    """Only the signals the viewer may hear: a merchant hears its own tickets, a customer theirs."""
    return StreamingResponse(live.stream(*channels, viewer=viewer), media_type="text/event-stream", headers=SSE_HEADERS)


# --- the agent workspace: queues -------------------------------------------------------------------
def _queue_context(db: Database, principal: Principal, scope: str, q: str, page: int, lang: str) -> dict[str, Any]:
    scope = scope if scope in SCOPES else "mine"
    tickets = service.list_tickets(db, principal, scope=scope, text=q, page=page, size=50)
    return {
        "tickets": tickets,
        "scope": scope,
        "q": q,
        "scopes": SCOPES,
        "group_names": routing.group_names(db, lang),
    }


@router.get("/desk", response_class=HTMLResponse)
def desk(
    request: Request,
    scope: Annotated[str, Query(max_length=16)] = "mine",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
) -> Response:
    context = _queue_context(db, principal, scope, q, page, request.state.lang)
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "queue-rows":
        return render(request, "tickets/desk.html", block="rows", **context)
    profile = routing.my_profile(db, principal.user_id)
    return render(
        request, "tickets/desk.html", profile=profile, mentions=presence.my_mentions(db, principal), **context
    )


@router.get("/desk/stream")
async def desk_stream(principal: Principal = Depends(page_principal(*DESK))) -> StreamingResponse:
    return sse("desk:all", agent_channel(principal.user_id), viewer=principal)


@router.get("/desk/new", response_class=HTMLResponse)
def new_ticket_form(request: Request, principal: Principal = Depends(page_principal(*DESK))) -> Response:
    return render(request, "tickets/new.html", channels=[Channel.PHONE, Channel.WEB], error=None, form={})


@router.post("/desk/new")
async def new_ticket(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}

    def open_ticket() -> str:
        data = ticket_from_form(form, Channel(form.get("channel", "phone")), with_requester=True)
        return service.open_ticket(db, data, principal, idempotency_key=form.get("form_key") or None).number

    def again(exc: AppError) -> Response:
        channels = [Channel.PHONE, Channel.WEB]
        return render(
            request,
            "tickets/new.html",
            status_code=exc.status_code,
            channels=channels,
            error=i18n.error_text(exc, request.state.lang),
            form=form,
        )

    return submit(open_ticket, lambda number: f"/desk/tickets/{number}", again)


def ticket_from_form(form: dict[str, str], channel: Channel, *, with_requester: bool = False) -> TicketIn:
    """A new ticket as a page's form gives it. Staff type in the requester's contact; a customer's
    contact is their account's, so the customer's form has none."""
    requester = ("requester_name", "requester_email", "requester_phone") if with_requester else ()
    return TicketIn(
        subject=form.get("subject", "")[:200],
        body=form.get("body", ""),
        channel=channel,
        order_number=form.get("order_number", "").strip(),
        **{field: form.get(field, "").strip() for field in requester},
    )


# --- the agent workspace: one ticket ------------------------------------------------------------------
def _ticket_context(db: Database, number: str, principal: Principal) -> dict[str, Any]:
    ticket = service.get_ticket(db, number, principal)
    order = None
    if ticket.order_number:
        try:
            order = orders.get_order(db, ticket.order_number, principal)
        except AppError:
            order = None
    customer_orders = (
        orders.recent_orders_of_customer(db, ticket.customer_id, 8, principal) if ticket.customer_id else []
    )
    order_cases = (
        cases.list_cases(db, principal, PageRequest(1, 10), order_number=ticket.order_number).items
        if ticket.order_number
        else []
    )
    past = service.customer_tickets(db, ticket.customer_id, ticket.number, 10, principal) if ticket.customer_id else []
    return {
        "ticket": ticket,
        "order": order,
        "customer_orders": customer_orders,
        "order_cases": order_cases,
        "past_tickets": past,
        "macros": macros.offered(db, number, principal),
        "groups": routing.group_options(db),
        "axes": taxonomy.load(),
        "statuses_after_reply": [TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED],
        "priorities": list(Priority),
        "types": list(TicketType),
        "kinds": [CaseKind.RETURN_REFUND, CaseKind.REFUND_ONLY, CaseKind.EXCHANGE, CaseKind.COMPENSATION],
        "reasons": list(CaseReason),
        "viewers": presence.touch_viewer(db, number, principal),
        "handoffs": handoffs.notes(db, number, principal),
        "fill": None,
        "error": None,
    }


@router.get("/desk/tickets/{number}", response_class=HTMLResponse)
def ticket_page(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK, Role.ARBITRATOR)),
) -> Response:
    context = _ticket_context(db, number[:24], principal)
    block = {"thread": "thread", "viewers": "viewers", "head": "head"}.get(request.headers.get("hx-target", ""))
    return render(request, "tickets/ticket.html", block=block, **context)


@router.get("/desk/tickets/{number}/stream")
async def ticket_stream(
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK, Role.ARBITRATOR)),
) -> StreamingResponse:
    service.get_ticket(db, number[:24], principal)  # 404 unless the viewer may see the ticket
    return sse(ticket_channel(number[:24]), viewer=principal)


def _ticket_page(request: Request, db: Database, number: str, principal: Principal, exc: AppError) -> Response:
    context = _ticket_context(db, number, principal)
    context["error"] = exc.message
    return render(request, "tickets/ticket.html", status_code=exc.status_code, **context)


def _change(
    request: Request, db: Database, number: str, principal: Principal, change: Callable[[], object]
) -> Response:
    """Run one change from the ticket page: back to the ticket when it is done, or the page again
    with the sentence that says what to fix."""
    return submit(change, f"/desk/tickets/{number}", lambda exc: _ticket_page(request, db, number, principal, exc))


@router.post("/desk/tickets/{number}/messages")
def post_message(
    request: Request,
    number: str,
    body: Annotated[str, Form(max_length=20_000)] = "",
    kind: Annotated[str, Form(max_length=16)] = "reply",
    then: Annotated[str, Form(max_length=16)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    tags: Annotated[str, Form(max_length=400)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]
    added = [t for t in tags.replace("，", ",").split(",") if t.strip()]

    def change() -> None:
        if not body.strip():
            raise Invalid("Write the reply or note first.")
        data = MessageIn(
            body=body,
            kind=MessageKind.NOTE if kind == "note" else MessageKind.REPLY,
            then=TicketStatus(then) if then in ("open", "pending", "solved") else None,
            version=version_of(version),
        )
        service.post_message(db, number, data, principal)
        if added:  # the tags a macro proposed, as the agent left them
            service.set_tags(db, number, added, [], principal)

    return _change(request, db, number, principal, change)


@router.post("/desk/tickets/{number}/actions")
def ticket_action(
    request: Request,
    number: str,
    action: Annotated[str, Form(max_length=24)],
    reason: Annotated[str, Form(max_length=500)] = "",
    assignee_user_id: Annotated[str, Form(max_length=12)] = "",
    group_key: Annotated[str, Form(max_length=64)] = "",
    merge_into: Annotated[str, Form(max_length=24)] = "",
    confirm_other_customer: Annotated[str, Form(max_length=8)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]

    def change() -> None:
        if action not in TicketAction.__members__.values():
            raise Invalid(f"Unknown action '{action}'.")
        data = ActionIn(
            action=TicketAction(action),
            reason=reason,
            assignee_user_id=int(assignee_user_id) if assignee_user_id.strip().isdigit() else None,
            group_key=group_key,
            merge_into=merge_into,
            confirm_other_customer=bool(confirm_other_customer),
            version=version_of(version),
        )
        service.act(db, number, data, principal)

    return _change(request, db, number, principal, change)


@router.post("/desk/tickets/{number}/classification")
def classify(
    request: Request,
    number: str,
    responsibility: Annotated[str, Form(max_length=16)],
    scenario: Annotated[str, Form(max_length=40)],
    ticket_type: Annotated[str, Form(max_length=16)] = "",
    priority: Annotated[str, Form(max_length=16)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]

    def change() -> None:
        data = ClassificationIn(
            responsibility=responsibility,
            scenario=scenario,
            ticket_type=TicketType(ticket_type) if ticket_type in TicketType.__members__.values() else None,
            priority=Priority(priority) if priority in Priority.__members__.values() else None,
            version=version_of(version),
        )
        service.reclassify(db, number, data, principal)

    return _change(request, db, number, principal, change)


@router.get("/desk/tickets/{number}/macro", response_class=HTMLResponse)
def fill_macro(
    request: Request,
    number: str,
    macro_id: Annotated[str, Query(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
) -> Response:
    """The reply box filled from a macro (its text for this ticket, its proposed status and tags):
    an htmx fragment, or the whole page without JavaScript. Nothing is written or sent."""
    number = number[:24]
    if not macro_id.strip().isdigit():
        return _ticket_page(request, db, number, principal, Invalid("Choose a macro."))
    fill = macros.fill(db, number, int(macro_id), principal, request.state.lang)
    if request.headers.get("hx-request"):
        return render(
            request,
            "tickets/_reply.html",
            fill=fill,
            statuses_after_reply=[TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED],
        )
    context = _ticket_context(db, number, principal)
    context["fill"] = fill
    return render(request, "tickets/ticket.html", **context)


@router.post("/desk/tickets/{number}/tags")
def edit_tags(
    request: Request,
    number: str,
    add: Annotated[str, Form(max_length=400)] = "",
    remove: Annotated[str, Form(max_length=80)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]
    added = [t for t in add.replace("，", ",").split(",") if t.strip()]
    return _change(
        request,
        db,
        number,
        principal,
        lambda: service.set_tags(db, number, added, [remove] if remove else [], principal),
    )


@router.post("/desk/tickets/{number}/link")
def link(
    request: Request,
    number: str,
    other: Annotated[str, Form(max_length=24)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]
    return _change(request, db, number, principal, lambda: service.link_tickets(db, number, other, principal))


@router.post("/desk/tickets/{number}/case")
async def one_click_case(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    """Start a return, refund, resend (exchange) or compensation from the ticket; the cases service
    and its policies decide, exactly as when the customer asks."""
    number = number[:24]
    form = await request.form()

    def change() -> None:
        lines = [
            CaseLineIn(line_no=int(key[4:]), quantity=int(str(value)))
            for key, value in form.multi_items()
            if key.startswith("qty_") and str(value).strip().isdigit() and int(str(value)) > 0
        ]
        amount = str(form.get("compensation_amount", "") or "").strip()
        draft = CaseDraft(
            order_number="-",
            kind=CaseKind(str(form.get("kind", "return_refund"))),
            reason=CaseReason(str(form.get("reason", "quality_issue"))),
            lines=lines,
            description=str(form.get("description", ""))[:2000] or f"From ticket {number}",
            compensation_amount=amount or None,
        )
        service.start_case(db, number, draft, principal)

    return _change(request, db, number, principal, change)
