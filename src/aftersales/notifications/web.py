"""The inbox pages: the list, marking a message read, and the unread badge for the nav. A customer
reads the notices about their orders and cases; a supervisor reads staff alerts (SLA breaches)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.notifications import service
from aftersales.notifications.settings import notification_settings
from aftersales.web.deps import csrf_protect, get_db, optional_principal, page_principal
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)

MessageId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# Who has an inbox: customers (notices) and supervisors (breach alerts).
READERS = (Role.CUSTOMER, Role.SUPERVISOR)


def _customer_id(principal: Principal) -> int:
    # A customer account not (yet) linked to a customer has an empty inbox.
    return principal.customer_id or 0


def _is_staff(principal: Principal) -> bool:
    return principal.role is not Role.CUSTOMER


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    if _is_staff(principal):
        result = service.staff_inbox(db, principal.user_id, page)
    else:
        result = service.inbox(db, _customer_id(principal), page)
    block = "results" if request.headers.get("hx-request") and request.headers.get("hx-target") == "results" else None
    return render(request, "notifications/inbox.html", block=block, inbox=result)


@router.post("/inbox/{message_id}/read", dependencies=[Depends(csrf_protect)])
def mark_read(
    request: Request,
    message_id: MessageId,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    if _is_staff(principal):
        item = service.staff_mark_read(db, principal.user_id, message_id)
    else:
        item = service.mark_read(db, _customer_id(principal), message_id)
    if request.headers.get("hx-request"):
        # htmx swaps the message in place; the badge in the nav listens for this event.
        response = render(request, "notifications/_message.html", m=item)
        response.headers["HX-Trigger"] = "inbox-changed"
        return response
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox/badge", response_class=HTMLResponse)
def unread_badge(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    """The unread count for the nav, polled by htmx: empty for anyone who is not a signed-in
    customer (never a redirect, which htmx would paste into the nav)."""
    unread = 0
    if principal is not None and principal.role is Role.CUSTOMER and principal.customer_id:
        unread = service.unread_count(db, principal.customer_id)
    elif principal is not None and principal.role is Role.SUPERVISOR:
        unread = service.staff_unread_count(db, principal.user_id)
    return render(request, "notifications/_badge.html", unread=unread)


@router.get("/inbox/alerts", response_class=HTMLResponse)
def staff_alerts(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.SUPERVISOR)),
) -> Response:
    """A supervisor's unread alerts, newest first (a fragment the supervisor's board refreshes
    live when a breach is signalled)."""
    unread = [m for m in service.staff_inbox(db, principal.user_id, 1, 5).items if m.unread]
    return render(request, "notifications/_alerts.html", alerts=unread)


# --- the buyer's choices: which messages, on which channel ----------------------------------------
MARKETING_WORDING = "account-2026-12"  # the version of outreach.marketing_wording the buyer agrees to
CLASSES = ("service_proactive", "marketing")
CHANNELS = ("inapp", "email")


def _channels() -> tuple[str, ...]:
    """SMS is shown once an SMS gateway is configured (docs/outreach.md)."""
    return (*CHANNELS, "sms") if notification_settings().sms_provider != "none" else CHANNELS


@router.get("/account/messages", response_class=HTMLResponse)
def outreach_page(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
) -> Response:
    """Per class × channel: what the buyer receives. Status notices cannot be turned off."""
    customer_id = _customer_id(principal)
    chosen = {(c.message_class, c.channel): c.opted_out for c in service.outreach_choices(db, customer_id)}
    consented = service.marketing_channels(db, customer_id)
    receives = {
        (klass, channel): not chosen.get((klass, channel), False) and (klass != "marketing" or channel in consented)
        for klass in CLASSES
        for channel in _channels()
    }
    return render(
        request,
        "notifications/outreach.html",
        receives=receives,
        classes=CLASSES,
        channels=_channels(),
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/account/messages", dependencies=[Depends(csrf_protect)])
async def save_outreach(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
) -> Response:
    """A ticked box receives, an unticked one is turned off, effective for the next message. Ticking
    marketing on a channel is consent to the wording shown (recorded with its version)."""
    form = await request.form()
    wanted = {str(name) for name in form if str(name).startswith("receive.")}
    service.save_outreach_choices(
        db,
        _customer_id(principal),
        {(k, c): f"receive.{k}.{c}" in wanted for k in CLASSES for c in _channels()},
        wording_version=MARKETING_WORDING,
        by=principal.username,
    )
    return RedirectResponse("/account/messages?saved=1", status_code=303)


@router.get("/outreach/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: Annotated[str, Path(max_length=200)]) -> Response:
    """The link in an email: one button, no sign-in (the link is signed). A GET changes nothing, so
    mail scanners that open links do not unsubscribe anybody."""
    return render(request, "notifications/unsubscribe.html", token=token, done=None)


@router.post("/outreach/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(
    request: Request, token: Annotated[str, Path(max_length=200)], db: Database = Depends(get_db)
) -> Response:
    """The button, or a mail client's one-click POST (RFC 8058): effective at once. The signed token
    is the credential, so no session or CSRF token is needed; a forged one is a 403 with a message."""
    done = service.unsubscribe(db, token)
    return render(request, "notifications/unsubscribe.html", token=token, done=done)
