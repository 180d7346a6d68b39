"""Refund routes under /api/v1: the refunds of an order you may see, and the gateway's signed
confirmation callback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Scope
from aftersales.kit.errors import Invalid, Unauthorized
from aftersales.orders import service as orders
from aftersales.refunds import domain, service
from aftersales.refunds.schemas import GatewayCallbackIn, GatewayCallbackResult, RefundPublic
from aftersales.refunds.settings import refund_settings
from aftersales.web.deps import api_principal, database_of, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["refunds"])


@router.get(
    "/orders/{number}/refunds",
    response_model=list[RefundPublic],
    responses={401: {"description": "not signed in"}, 404: {"description": "no such order that you can see"}},
    summary="Refunds of an order, oldest first",
)
def order_refunds(
    number: Annotated[str, Path(max_length=64)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(scope=Scope.ORDERS_READ)),
) -> list[RefundPublic]:
    orders.get_order(db, number, principal)  # 404 unless the caller may see the order
    return [RefundPublic.model_validate(r.model_dump()) for r in service.refunds_for_order_number(db, number)]


def _callback_secret(request: Request) -> str:
    # Its own secret, never the session key: the gateway's operators must not be able to sign cookies.
    app_secret = getattr(request.app.state.settings, "refund_gateway_callback_secret", "")
    return str(app_secret or refund_settings().refund_gateway_callback_secret)


_CALLBACK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": GatewayCallbackIn.model_json_schema()}},
    }
}


@router.post(
    "/refunds/gateway-callback",
    response_model=GatewayCallbackResult,
    responses={
        401: {"description": "missing or wrong X-Gateway-Signature"},
        404: {"description": "no refund with this gateway reference"},
        409: {"description": "contradicts an earlier confirmation"},
        422: {"description": "body is not a confirmation"},
    },
    summary="The payment gateway confirms or declines a refund (HMAC-SHA256 signed; replays are harmless)",
    openapi_extra=_CALLBACK_BODY,
)
async def gateway_callback(
    request: Request,
    x_gateway_signature: Annotated[str, Header(max_length=200)] = "",
) -> GatewayCallbackResult:
    body = await request.body()
    secret = _callback_secret(request)
    if not secret or not domain.signature_matches(secret, body, x_gateway_signature):
        raise Unauthorized(
            "The X-Gateway-Signature header does not match the body: send the hex HMAC-SHA256 of the raw "
            "body, keyed with the shared secret."
        )
    try:
        data = GatewayCallbackIn.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
        raise Invalid(f"Please fix the callback: {problems}") from exc
    db: Database = database_of(request)
    await run_in_threadpool(
        lambda: service.settle(db, data.gateway_ref, data.status == "succeeded", idempotency_key=data.idempotency_key)
    )
    refund = await run_in_threadpool(service.refund_by_gateway_ref, db, data.gateway_ref)
    return GatewayCallbackResult(gateway_ref=data.gateway_ref, status=refund.status)
