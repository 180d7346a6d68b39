"""Pages of learning from hand-offs: the customer's consent in the chat, the desk's "the customer
wanted: …" form (loaded into a hand-off's ticket page), and the supervisors' list of examples to
approve or reject. Every form also works as a plain post without JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.assistant import learning
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.understanding.intents import INTENTS
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.i18n import error_text
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request.
router = APIRouter(include_in_schema=False)
LABELLERS = tuple(sorted(learning.LABELLERS))
REVIEWERS = tuple(sorted(learning.REVIEWERS))
CONSENT = "assistant/_consent.html"
INTENT_FORM = "assistant/_intent_form.html"


def _htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


@router.post("/chat/{conversation_id}/consent")
def chat_consent(
    request: Request,
    conversation_id: int,
    consent: Annotated[str, Form(pattern="^(yes|no)$")],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    """The customer's answer to "may this conversation be used to improve the assistant?"."""
    consented = learning.set_consent(db, principal, conversation_id, consent == "yes")
    if not _htmx(request):
        return RedirectResponse("/chat", status_code=303)
    return render(request, CONSENT, conversation_id=conversation_id, consent=consented)


def _intent_page(
    request: Request, db: Database, principal: Principal, conversation_id: int, *, saved: bool, error: str
) -> Response:
    subject = learning.correction_subject(db, principal, conversation_id)
    template = INTENT_FORM if _htmx(request) else "assistant/intent.html"
    return render(
        request,
        template,
        status_code=422 if error else 200,
        conversation_id=conversation_id,
        subject=subject,
        intents=INTENTS,
        ticket=learning.ticket_of(db, conversation_id),
        saved=saved,
        error=error,
    )


@router.get("/assistant/conversations/{conversation_id}/intent", response_class=HTMLResponse)
def intent_form(
    request: Request,
    conversation_id: int,
    saved: int = 0,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*LABELLERS)),
) -> Response:
    """What the customer wanted, as an agent says it: a fragment for the ticket page (htmx) or a page."""
    return _intent_page(request, db, principal, conversation_id, saved=bool(saved), error="")


@router.post("/assistant/conversations/{conversation_id}/intent")
def intent_post(
    request: Request,
    conversation_id: int,
    intent: Annotated[str, Form(max_length=32)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*LABELLERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    try:
        learning.correct_intent(db, principal, conversation_id, intent)
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return _intent_page(
            request, db, principal, conversation_id, saved=False, error=error_text(exc, request.state.lang)
        )
    if not _htmx(request):
        return RedirectResponse(f"/assistant/conversations/{conversation_id}/intent?saved=1", status_code=303)
    return _intent_page(request, db, principal, conversation_id, saved=True, error="")


@router.get("/assistant/examples", response_class=HTMLResponse)
def examples_page(
    request: Request,
    status: str = "pending",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*REVIEWERS)),
) -> Response:
    """Examples kept from hand-offs and corrections: pending ones to approve or reject."""
    if status not in learning.STATUSES:
        status = "pending"
    return render(
        request,
        "assistant/examples.html",
        examples=learning.examples(db, principal, status),
        counts=learning.counts(db, principal),
        status=status,
        statuses=learning.STATUSES,
    )


@router.post("/assistant/examples/{example_id}/{decision}")
def examples_review(
    request: Request,
    example_id: int,
    decision: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*REVIEWERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    if decision not in ("approve", "reject"):
        return Response(status_code=404)
    learning.review(db, principal, example_id, decision == "approve")
    return RedirectResponse("/assistant/examples", status_code=303)
