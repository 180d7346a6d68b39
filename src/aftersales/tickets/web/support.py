"""Pages for customers: contact us, my tickets, the thread; and a ticket's attachments, for whoever
may see the ticket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid, NotFound
from aftersales.tickets import service
from aftersales.tickets.domain import Channel, MessageKind
from aftersales.tickets.intake import ticket_channel
from aftersales.tickets.schemas import MessageIn
from aftersales.tickets.web.desk import DESK, sse, ticket_from_form
from aftersales.web import i18n
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.forms import submit
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)


@router.get("/support", response_class=HTMLResponse)
def support_page(
    request: Request,
    order: Annotated[str, Query(max_length=64)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
) -> Response:
    tickets = service.list_tickets(db, principal, scope="all", size=50)
    return render(request, "tickets/support.html", tickets=tickets, form={"order_number": order}, error=None)


@router.post("/support")
async def support_submit(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}

    def open_ticket() -> str:
        data = ticket_from_form(form, Channel.WEB)
        return service.open_ticket(db, data, principal, idempotency_key=form.get("form_key") or None).number

    def again(exc: AppError) -> Response:
        tickets = service.list_tickets(db, principal, scope="all", size=50)
        return render(
            request,
            "tickets/support.html",
            status_code=exc.status_code,
            tickets=tickets,
            form=form,
            error=i18n.error_text(exc, request.state.lang),
        )

    return submit(open_ticket, lambda number: f"/support/{number}", again)


@router.get("/support/{number}", response_class=HTMLResponse)
def support_ticket(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
) -> Response:
    ticket = service.get_ticket(db, number[:24], principal)
    block = "thread" if request.headers.get("hx-target") == "thread" else None
    return render(request, "tickets/support_ticket.html", block=block, ticket=ticket, error=None)


@router.get("/support/{number}/stream")
async def support_stream(
    number: str, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(Role.CUSTOMER))
) -> StreamingResponse:
    service.get_ticket(db, number[:24], principal)  # 404 unless it is the customer's own
    return sse(ticket_channel(number[:24]), viewer=principal)


@router.post("/support/{number}")
def support_reply(
    request: Request,
    number: str,
    body: Annotated[str, Form(max_length=20_000)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]

    def write() -> None:
        if not body.strip():
            raise Invalid("Write your message first.")
        service.post_message(db, number, MessageIn(body=body, kind=MessageKind.CUSTOMER), principal)

    def again(exc: AppError) -> Response:
        ticket = service.get_ticket(db, number, principal)
        return render(
            request,
            "tickets/support_ticket.html",
            status_code=exc.status_code,
            ticket=ticket,
            error=i18n.error_text(exc, request.state.lang),
        )

    return submit(write, f"/support/{number}", again)


@router.get("/tickets/{number}/attachments/{attachment_id}")
def attachment(
    number: str,
    attachment_id: int,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK, Role.ARBITRATOR, Role.CUSTOMER)),
) -> Response:
    found = service.attachment_file(db, number[:24], attachment_id, principal)
    if found is None:
        raise NotFound("No such attachment.")
    path, filename, content_type = found
    return FileResponse(path, media_type=content_type, filename=filename)
