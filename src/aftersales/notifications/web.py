"""The customer's inbox pages: the list, marking a message read, and the unread badge for the nav."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.notifications import service
from aftersales.web.deps import csrf_protect, get_db, optional_principal, page_principal
from aftersales.web.templating import render

router = APIRouter(include_in_schema=False)

MessageId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _customer_id(principal: Principal) -> int:
    # A customer account not (yet) linked to a customer has an empty inbox.
    return principal.customer_id or 0


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
) -> Response:
    result = service.inbox(db, _customer_id(principal), page)
    block = "results" if request.headers.get("hx-request") and request.headers.get("hx-target") == "results" else None
    return render(request, "notifications/inbox.html", block=block, inbox=result)


@router.post("/inbox/{message_id}/read", dependencies=[Depends(csrf_protect)])
def mark_read(
    request: Request,
    message_id: MessageId,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.CUSTOMER)),
) -> Response:
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
    return render(request, "notifications/_badge.html", unread=unread)
