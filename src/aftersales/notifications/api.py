"""Inbox JSON routes under /api/v1: a customer reads their own messages and marks them read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.notifications import service
from aftersales.notifications.schemas import InboxItem, InboxPage, UnreadCount
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["notifications"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "only customers have an inbox"},
}


@router.get("/inbox", response_model=InboxPage, responses=ERRORS, summary="My inbox, newest first")
def get_inbox(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, scope=Scope.INBOX_READ)),
) -> InboxPage:
    return service.inbox(db, principal.customer_id or 0, page, size)


@router.get("/inbox/unread", response_model=UnreadCount, responses=ERRORS, summary="How many messages are unread")
def get_unread(
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, scope=Scope.INBOX_READ)),
) -> UnreadCount:
    return UnreadCount(unread=service.unread_count(db, principal.customer_id or 0))


@router.post(
    "/inbox/{message_id}/read",
    response_model=InboxItem,
    responses={**ERRORS, 404: {"description": "no such message in your inbox"}},
    summary="Mark one of my messages read",
)
def post_read(
    message_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, scope=Scope.INBOX_WRITE)),
) -> InboxItem:
    return service.mark_read(db, principal.customer_id or 0, message_id)
