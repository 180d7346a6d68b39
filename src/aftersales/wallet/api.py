"""Wallet JSON routes under /api/v1: a customer's own wallet, a customer's wallet for service staff,
agents' offers, and declared force majeure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.kit.errors import NotFound
from aftersales.wallet import service
from aftersales.wallet.schemas import EntryOut, ForceMajeureIn, ForceMajeureOut, OfferIn, VipOfferIn, WalletOut
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, because FastAPI reads its signature (path, body,
# role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["wallet"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such order, case or wallet in your scope"},
    409: {"description": "already given for this ticket or case, or the coupon system did not answer"},
    422: {"description": "a field is missing or wrong, or the amount is above the policies' limit"},
}
STAFF = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)


@router.get("/wallet", response_model=WalletOut, responses=ERRORS, summary="My coupons and store credit")
def my_wallet(
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, scope=Scope.ORDERS_READ)),
) -> WalletOut:
    if principal.customer_id is None:
        raise NotFound("Your account is not linked to a customer.")
    return service.wallet_of(db, principal.customer_id, principal)


@router.get(
    "/customers/{customer_id}/wallet", response_model=WalletOut, responses=ERRORS, summary="A customer's wallet"
)
def customer_wallet(
    customer_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*STAFF, Role.ARBITRATOR, scope=Scope.ORDERS_READ)),
) -> WalletOut:
    return service.wallet_of(db, customer_id, principal)


@router.post(
    "/wallet/offers", response_model=EntryOut, status_code=201, responses=ERRORS, summary="Offer a goodwill coupon"
)
def offer(
    data: OfferIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*STAFF, scope=Scope.CASES_WRITE)),
) -> EntryOut:
    return service.offer_coupon(db, data, principal)


@router.post(
    "/wallet/vip-offers",
    response_model=EntryOut,
    status_code=201,
    responses=ERRORS,
    summary="Issue a case's VIP extra coupon",
)
def vip_offer(
    data: VipOfferIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*STAFF, scope=Scope.CASES_WRITE)),
) -> EntryOut:
    return service.offer_vip_coupon(db, data, principal)


@router.get(
    "/wallet/force-majeure", response_model=list[ForceMajeureOut], responses=ERRORS, summary="Declared force majeure"
)
def periods(
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*STAFF, scope=Scope.CASES_READ)),
) -> list[ForceMajeureOut]:
    return service.force_majeure_periods(db)


@router.post(
    "/wallet/force-majeure",
    response_model=ForceMajeureOut,
    status_code=201,
    responses=ERRORS,
    summary="Declare a force-majeure period and region",
)
def declare(
    data: ForceMajeureIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.ADMIN, Role.SUPERVISOR, scope=Scope.CASES_WRITE)),
) -> ForceMajeureOut:
    return service.declare_force_majeure(db, data, principal)
