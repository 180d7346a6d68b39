"""Integrations' JSON routes under /api/v1: shop platforms' signed webhooks, and the administrator's
integrations (created with their secret shown once, listed with deliveries, failed ones replayed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from aftersales.db.uow import Database
from aftersales.integrations import service
from aftersales.integrations.schemas import (
    DeliveryOut,
    IntegrationCreated,
    IntegrationIn,
    IntegrationOut,
    WebhookAnswer,
)
from aftersales.kit.access import Principal, Role, Scope
from aftersales.web.deps import api_principal, database_of, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["integrations"])


def _key(request: Request) -> bytes:
    return str(request.app.state.settings.secret_key).encode()


_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the platform's webhook body, exactly as it sends it (the signature covers these bytes)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/integrations/{platform}/{integration_id}/orders",
    response_model=WebhookAnswer,
    responses={
        401: {"description": "unsigned, signed with another secret, or no such integration: nothing changed"},
        413: {"description": "the body is too large"},
        422: {"description": "not an order this integration can import (the delivery is kept for a replay)"},
    },
    summary="A shop platform's order webhook (Shopify, WooCommerce, BigCommerce, Saleor), signed; a known event id "
    "changes nothing",
    openapi_extra=_RAW_BODY,
)
async def order_webhook(
    request: Request,
    platform: Annotated[str, Path(max_length=32, description="shopify, woocommerce, bigcommerce or saleor")],
    integration_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> WebhookAnswer:
    body = await request.body()
    db = database_of(request)
    headers = dict(request.headers)
    key = _key(request)
    return await run_in_threadpool(service.receive_webhook, db, key, platform, integration_id, headers, body)


@router.post(
    "/integrations",
    response_model=IntegrationCreated,
    status_code=201,
    responses={409: {"description": "unknown merchant"}},
    summary="Connect a shop: its webhook address and its secret, shown this once",
)
def create_integration(
    request: Request,
    data: IntegrationIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.ADMIN, scope=Scope.ORDERS_WRITE)),
) -> IntegrationCreated:
    return service.create_integration(db, _key(request), data, principal)


@router.get("/integrations", response_model=list[IntegrationOut], summary="Connected shops, last delivery, failures")
def list_integrations(
    db: Database = Depends(get_db),
    _: Principal = Depends(api_principal(Role.ADMIN, scope=Scope.ORDERS_READ)),
) -> list[IntegrationOut]:
    return service.list_integrations(db)


@router.post(
    "/integrations/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    responses={404: {"description": "no such delivery"}, 409: {"description": "the delivery did not fail"}},
    summary="Run a failed delivery again, as it arrived",
)
def replay_delivery(
    request: Request,
    delivery_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: Database = Depends(get_db),
    _: Principal = Depends(api_principal(Role.ADMIN, scope=Scope.ORDERS_WRITE)),
) -> DeliveryOut:
    return service.replay(db, _key(request), delivery_id)
