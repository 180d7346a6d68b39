"""Orders JSON routes under /api/v1: integrators write, everyone reads within their scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from aftersales.db.uow import Database
from aftersales.kit.access import LOGISTICS_WRITERS, ORDER_WRITERS, Principal, Role, Scope
from aftersales.kit.errors import Invalid
from aftersales.kit.pagination import PageRequest
from aftersales.orders import service
from aftersales.orders.domain import OrderStatus
from aftersales.orders.schemas import (
    CategoryIn,
    CategoryOut,
    LogisticsEventIn,
    LogisticsEventResult,
    MerchantIn,
    MerchantOut,
    OrderIn,
    OrderOut,
    OrderPage,
    ProductIn,
    ProductOut,
    UpsertResult,
)
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["orders"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
}


@router.put("/merchants/{code}", response_model=MerchantOut, responses=ERRORS, summary="Create or update a merchant")
def put_merchant(
    data: MerchantIn,
    code: Annotated[str, Path(max_length=64)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ORDER_WRITERS, scope=Scope.ORDERS_WRITE)),
) -> MerchantOut:
    if data.code != code:
        raise Invalid(f"The code in the body ('{data.code}') must match the code in the path ('{code}').")
    return MerchantOut.model_validate(service.upsert_merchant(db, data, principal))


@router.put("/categories/{code}", response_model=CategoryOut, responses=ERRORS, summary="Create or rename a category")
def put_category(
    data: CategoryIn,
    code: Annotated[str, Path(max_length=64)],
    db: Database = Depends(get_db),
    _: Principal = Depends(api_principal(Role.ADMIN, scope=Scope.ORDERS_WRITE)),
) -> CategoryOut:
    if data.code != code:
        raise Invalid(f"The code in the body ('{data.code}') must match the code in the path ('{code}').")
    return CategoryOut.model_validate(service.upsert_category(db, data))


@router.post(
    "/products",
    response_model=ProductOut,
    responses={**ERRORS, 409: {"description": "unknown merchant or category"}},
    summary="Create or update a product with its SKUs",
)
def post_product(
    data: ProductIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ORDER_WRITERS, scope=Scope.ORDERS_WRITE)),
) -> ProductOut:
    product, skus = service.upsert_product(db, data, principal)
    return ProductOut(id=product.id, name=product.name, category_code=data.category_code, skus=skus)


@router.post(
    "/orders",
    response_model=UpsertResult,
    responses={**ERRORS, 200: {"description": "updated or unchanged"}, 409: {"description": "refused"}},
    status_code=200,
    summary="Create or update an order (idempotent by number and version)",
)
def upsert_order(
    data: OrderIn,
    response: Response,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ORDER_WRITERS, scope=Scope.ORDERS_WRITE)),
) -> UpsertResult:
    result = service.upsert_order(db, data, principal)
    if result.result == "created":
        response.status_code = 201
    return result


@router.post(
    "/logistics-events",
    response_model=LogisticsEventResult,
    responses={**ERRORS, 404: {"description": "unknown shipment"}},
    summary="Record a carrier scan (idempotent by event id, any arrival order)",
)
def post_logistics_event(
    request: Request,
    data: LogisticsEventIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*LOGISTICS_WRITERS, scope=Scope.LOGISTICS_WRITE)),
) -> LogisticsEventResult:
    skew = timedelta(seconds=request.app.state.settings.logistics_clock_skew_seconds)
    return service.record_logistics_event(db, data, principal, clock_skew=skew)


@router.get("/orders", response_model=OrderPage, responses=ERRORS, summary="Orders you may see")
def list_orders(
    q: Annotated[str, Query(max_length=80, description="order number, phone or customer name")] = "",
    status: OrderStatus | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(scope=Scope.ORDERS_READ)),
) -> OrderPage:
    result = service.search_orders(db, principal, q, PageRequest(page, size), status.value if status else None)
    return OrderPage(items=result.items, total=result.total, page=page, size=size)


@router.get(
    "/orders/{number}",
    response_model=OrderOut,
    responses={**ERRORS, 404: {"description": "no such order in your scope"}},
    summary="One order with lines, payments, shipments, logistics and its timeline",
)
def get_order(
    number: Annotated[str, Path(max_length=64)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(scope=Scope.ORDERS_READ)),
) -> OrderOut:
    return service.get_order(db, number, principal)
