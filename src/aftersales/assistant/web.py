"""The chat widget: a page (/chat) and a compact panel other customer pages can load
(hx-get="/chat/panel"), the message list as an htmx fragment refreshed by Server-Sent Events, and
plain form posts that also work without JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from aftersales.assistant import conversation as chat
from aftersales.assistant import learning
from aftersales.db.uow import Database
from aftersales.kit.access import PLATFORM_STAFF, Principal, Role
from aftersales.kit.errors import AppError
from aftersales.messaging import live
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
CUSTOMER = (Role.CUSTOMER,)
# Staff may read a conversation (the agent who took it over sees it in full); only its customer writes.
READERS = (Role.CUSTOMER, *sorted(PLATFORM_STAFF))
PANEL = "assistant/_panel.html"


def _htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


@router.get("/chat", response_class=HTMLResponse)
def chat_page(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(*CUSTOMER))
) -> Response:
    conversation = chat.start_or_resume(db, principal, request.state.lang)
    consent = learning.consent_of(db, conversation.id)
    return render(request, "assistant/chat.html", conversation=conversation, compact=False, error="", consent=consent)


@router.get("/chat/panel", response_class=HTMLResponse)
def chat_panel(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(*CUSTOMER))
) -> Response:
    """The compact widget, for `<div hx-get="/chat/panel" hx-trigger="load">` on customer pages."""
    conversation = chat.start_or_resume(db, principal, request.state.lang)
    consent = learning.consent_of(db, conversation.id)
    return render(request, PANEL, conversation=conversation, compact=True, error="", consent=consent)


@router.get("/chat/{conversation_id}/messages", response_class=HTMLResponse)
def chat_messages(
    request: Request,
    conversation_id: int,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    conversation = chat.transcript(db, principal, conversation_id)
    readonly = principal.role is not Role.CUSTOMER
    return render(request, PANEL, block="messages", conversation=conversation, readonly=readonly, error="")


@router.post("/chat/{conversation_id}/messages")
def chat_post(
    request: Request,
    conversation_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
    choice: Annotated[str, Form(max_length=200)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CUSTOMER)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    return _answer(request, db, principal, conversation_id, text, choice)


@router.post("/chat/{conversation_id}/human")
def chat_human(
    request: Request,
    conversation_id: int,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CUSTOMER)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    return _answer(request, db, principal, conversation_id, "", "human")


def _answer(
    request: Request, db: Database, principal: Principal, conversation_id: int, text: str, choice: str
) -> Response:
    error = ""
    try:
        chat.post_customer_message(db, principal, conversation_id, text, choice=choice)
    except AppError as exc:
        if exc.status_code == 404 or not _htmx(request):
            raise
        error = exc.message
    if not _htmx(request):
        return RedirectResponse("/chat", status_code=303)
    conversation = chat.transcript(db, principal, conversation_id)
    return render(request, PANEL, block="messages", conversation=conversation, readonly=False, error=error)


@router.get("/chat/{conversation_id}/stream")
def chat_stream(
    conversation_id: int,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> StreamingResponse:
    """`changed` whenever a message arrives (and a `tick` now and then); the page re-reads its fragment."""
    chat.transcript(db, principal, conversation_id)  # only those who may see the conversation listen
    return StreamingResponse(
        live.stream(chat.channel(conversation_id), viewer=principal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
