"""The administrator's integrations page: connected shops with their last delivery and failures
(with the reason), connecting a shop (its secret shown this once), replaying a failed delivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from aftersales.db.uow import Database
from aftersales.integrations import service
from aftersales.integrations.domain import Platform
from aftersales.integrations.schemas import IntegrationCreated, IntegrationIn
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.orders import service as orders
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.i18n import error_text
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request.
router = APIRouter(include_in_schema=False)
WEBHOOK_PLATFORMS = [p for p in Platform if p is not Platform.MAGENTO2]
# The platforms as their makers write their names (brand names: the same in every language).
PLATFORM_NAMES = {
    "shopify": "Shopify",
    "woocommerce": "WooCommerce",
    "magento2": "Magento 2",
    "bigcommerce": "BigCommerce",
    "saleor": "Saleor",
}


def _page(
    request: Request,
    db: Database,
    *,
    created: IntegrationCreated | None = None,
    error: str = "",
    replayed: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "integrations/list.html",
        status_code=status_code,
        integrations=service.list_integrations(db),
        merchant_names={m.code: m.name for m in orders.list_merchants(db)},
        platforms=WEBHOOK_PLATFORMS,
        platform_names=PLATFORM_NAMES,
        created=created,
        error=error,
        replayed=replayed,
        base_url=str(request.base_url).rstrip("/"),
    )


@router.get("/admin/integrations", response_class=HTMLResponse)
def integrations_page(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    return _page(request, db)


@router.post("/admin/integrations", response_class=HTMLResponse)
def create_integration(
    request: Request,
    platform: Annotated[str, Form(max_length=16)] = "",
    merchant_code: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=120)] = "",
    secret: Annotated[str, Form(max_length=200)] = "",
    api_base_url: Annotated[str, Form(max_length=300)] = "",
    api_token: Annotated[str, Form(max_length=200)] = "",
    zone: Annotated[str, Form(max_length=64)] = "UTC",
    number_prefix: Annotated[str, Form(max_length=16)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    try:
        data = IntegrationIn.model_validate(
            {
                "platform": platform,
                "merchant_code": merchant_code,
                "name": name,
                "secret": secret,
                "api_base_url": api_base_url.strip(),
                "api_token": api_token,
                "zone": zone.strip() or "UTC",
                "number_prefix": number_prefix.strip(),
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        message = f"{field}: {str(first['msg']).removeprefix('Value error, ')}"
        return _page(request, db, error=message, status_code=422)
    key = str(request.app.state.settings.secret_key).encode()
    try:
        created = service.create_integration(db, key, data, principal)
    except AppError as exc:
        return _page(request, db, error=error_text(exc, request.state.lang), status_code=exc.status_code)
    # The secret is in this answer only: no redirect that would need it kept somewhere to show again.
    return _page(request, db, created=created, status_code=201)


@router.post("/admin/integrations/deliveries/{delivery_id}/replay", response_class=HTMLResponse)
def replay_delivery(
    request: Request,
    delivery_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    key = str(request.app.state.settings.secret_key).encode()
    try:
        done = service.replay(db, key, delivery_id)
    except AppError as exc:
        return _page(request, db, error=error_text(exc, request.state.lang), status_code=exc.status_code)
    return RedirectResponse(f"/admin/integrations?replayed={done.result.value}", status_code=303)
