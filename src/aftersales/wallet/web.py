"""Wallet pages: the customer's wallet (/wallet), the wallet panel in the agent's sidebar (ticket and
order pages load it), and the agent's offer forms. Routes only: the rules are in the service."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, NotFound
from aftersales.wallet import service
from aftersales.wallet.schemas import OfferIn, VipOfferIn
from aftersales.web import i18n
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.flash import flash, take_flash
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request.
router = APIRouter(tags=["wallet pages"], include_in_schema=False)
STAFF = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)


def _said(exc: Exception, request: Request) -> str:
    lang = request.state.lang
    if isinstance(exc, AppError):
        return i18n.error_text(exc, lang)
    return i18n.gettext(lang, "wallet.check_fields")


def _back(ticket: str, order: str) -> str:
    return f"/desk/tickets/{ticket}" if ticket else f"/orders/{order}"


@router.get("/wallet", response_class=HTMLResponse)
def wallet_page(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(Role.CUSTOMER))
) -> Response:
    if principal.customer_id is None:
        raise NotFound("Your account is not linked to a customer.")
    return render(request, "wallet/mine.html", wallet=service.wallet_of(db, principal.customer_id, principal))


@router.get("/wallet/panel", response_class=HTMLResponse)
def wallet_panel(
    request: Request,
    order: Annotated[str, Query(min_length=1, max_length=64)],
    ticket: Annotated[str, Query(max_length=64)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*STAFF, Role.ARBITRATOR)),
) -> Response:
    tier, wallet = service.wallet_of_order(db, order, principal)
    limit = service.offer_limit(db, order, principal) if principal.has(*STAFF) else None
    # After an offer the page comes back here; the ticket page leaves its message to this panel.
    shown = take_flash(request)
    return render(
        request,
        "wallet/_panel.html",
        wallet=wallet,
        tier=tier,
        limit=limit,
        order_number=order,
        ticket_number=ticket,
        may_offer=principal.has(*STAFF),
        said=shown,
        policy_names=service.source_names(db, request.state.lang),
    )


@router.post("/wallet/offers")
def offer_form(
    request: Request,
    order_number: Annotated[str, Form(max_length=64)],
    amount: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=300)] = "",
    ticket_number: Annotated[str, Form(max_length=64)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*STAFF)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    back = _back(ticket_number, order_number)
    try:
        value = Decimal(amount.strip())
    except InvalidOperation:
        flash(request, i18n.gettext(request.state.lang, "wallet.amount_words"), ok=False)
        return RedirectResponse(back, status_code=303)
    try:
        data = OfferIn(order_number=order_number, ticket_number=ticket_number or None, amount=value, reason=reason)
        entry = service.offer_coupon(db, data, principal)
    except (AppError, ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        flash(request, _said(exc, request), ok=False)
        return RedirectResponse(back, status_code=303)
    flash(request, i18n.gettext(request.state.lang, "wallet.offered").format(code=entry.code), ok=True)
    return RedirectResponse(back, status_code=303)


@router.post("/wallet/vip-offers")
def vip_offer_form(
    request: Request,
    case_number: Annotated[str, Form(max_length=64)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*STAFF)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    back = f"/cases/{case_number}"
    try:
        entry = service.offer_vip_coupon(db, VipOfferIn(case_number=case_number), principal)
    except (AppError, ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        flash(request, _said(exc, request), ok=False)
        return RedirectResponse(back, status_code=303)
    flash(request, i18n.gettext(request.state.lang, "wallet.offered").format(code=entry.code), ok=True)
    return RedirectResponse(back, status_code=303)
