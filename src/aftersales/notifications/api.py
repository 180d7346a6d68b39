"""Inbox JSON routes under /api/v1: a customer reads their own messages and marks them read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from aftersales.db.uow import Database
from aftersales.kit.access import PLATFORM_STAFF, Principal, Role, Scope
from aftersales.kit.errors import Forbidden, Invalid
from aftersales.notifications import service, sms
from aftersales.notifications.schemas import (
    ConsentIn,
    InboxItem,
    InboxPage,
    OutreachChoice,
    OutreachDecisionOut,
    UnreadCount,
)
from aftersales.notifications.settings import notification_settings
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


# --- the outreach governor ------------------------------------------------------------------------
@router.get(
    "/outreach/choices",
    response_model=list[OutreachChoice],
    responses=ERRORS,
    summary="Which proactive and marketing messages I have turned off, per channel",
)
def get_outreach_choices(
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, scope=Scope.INBOX_READ)),
) -> list[OutreachChoice]:
    return service.outreach_choices(db, principal.customer_id or 0)


@router.put(
    "/outreach/choices",
    response_model=list[OutreachChoice],
    responses={**ERRORS, 422: {"description": "transactional messages cannot be turned off; unknown channel"}},
    summary="Turn one class of messages off (or on again) on one channel, effective at once",
)
def put_outreach_choice(
    choice: OutreachChoice,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, scope=Scope.INBOX_WRITE)),
) -> list[OutreachChoice]:
    customer_id = principal.customer_id or 0
    service.set_outreach_choice(
        db, customer_id, choice.message_class, choice.channel, opted_out=choice.opted_out, source="api"
    )
    return service.outreach_choices(db, customer_id)


@router.post(
    "/outreach/consents",
    status_code=204,
    responses={401: {"description": "not signed in"}, 403: {"description": "admins and platform integrations only"}},
    summary="Record a buyer's consent to marketing on a channel (or its withdrawal), with the wording's version",
)
def post_consent(
    consent: ConsentIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.ADMIN, Role.INTEGRATION, scope=Scope.ORDERS_WRITE)),
) -> None:
    if principal.merchant_id is not None:
        raise Forbidden("A merchant's integration cannot record consent to the platform's marketing.")
    service.record_consent(
        db,
        consent.customer_id,
        consent.channel,
        granted=consent.granted,
        wording_version=consent.wording_version,
        source=consent.source,
        by=principal.username,
    )


@router.get(
    "/outreach/decisions",
    response_model=list[OutreachDecisionOut],
    responses={401: {"description": "not signed in"}, 403: {"description": "merchants and platform staff only"}},
    summary="Why messages were deferred or refused: a merchant's own, or one buyer's for platform staff",
)
def get_outreach_decisions(
    customer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    lang: Annotated[str, Query(max_length=8)] = "zh-CN",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.MERCHANT, *PLATFORM_STAFF, scope=Scope.ORDERS_READ)),
) -> list[OutreachDecisionOut]:
    if principal.role is Role.MERCHANT:
        if principal.merchant_id is None:
            raise Forbidden("This merchant account is not bound to a merchant.")
        return service.outreach_decisions(db, merchant_id=principal.merchant_id, lang=lang, limit=limit)
    if customer_id is None:
        raise Invalid("Say which buyer: ?customer_id=…", key="error.outreach_which_buyer")
    return service.outreach_decisions(db, customer_id=customer_id, lang=lang, limit=limit)


@router.post(
    "/sms/inbound/twilio",
    responses={403: {"description": "the request is not signed with our Twilio auth token"}},
    summary="Replies to our SMS (Twilio's incoming-message webhook): TD/T/N/R/退订/STOP opt out at once",
)
async def twilio_inbound(request: Request, db: Database = Depends(get_db)) -> Response:
    """Twilio posts each reply here as a form; only a correctly signed request is read. The answer
    is an empty TwiML response (no automatic reply: the next message would be one we may not send)."""
    settings = notification_settings()
    form = {str(k): str(v) for k, v in (await request.form()).items()}
    url = settings.public_url.rstrip("/") + request.url.path
    if not sms.twilio_signed(settings.twilio_auth_token, url, form, request.headers.get("X-Twilio-Signature", "")):
        raise Forbidden("This request is not signed with our Twilio auth token.")
    await run_in_threadpool(service.sms_reply_from, db, form.get("From", "")[:32], form.get("Body", "")[:160])
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', media_type="text/xml")
