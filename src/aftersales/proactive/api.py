"""JSON routes of the proactive context under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.proactive import service
from aftersales.proactive.schemas import IncidentOut
from aftersales.web.deps import api_principal, get_db

router = APIRouter(tags=["proactive"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such order in your scope"},
}
STAFF = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)


@router.get(
    "/proactive/incidents", response_model=list[IncidentOut], responses=ERRORS, summary="Open incidents, newest first"
)
def open_incidents(
    db: Database = Depends(get_db), principal: Principal = Depends(api_principal(*STAFF, scope=Scope.ORDERS_READ))
) -> list[IncidentOut]:
    return service.open_incidents(db)


@router.get(
    "/orders/{number}/incidents",
    response_model=list[IncidentOut],
    responses=ERRORS,
    summary="The incidents found on one order",
)
def order_incidents(
    number: Annotated[str, Path(max_length=64)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, *STAFF, scope=Scope.ORDERS_READ)),
) -> list[IncidentOut]:
    return service.incidents_of_order(db, number, principal)
