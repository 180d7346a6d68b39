"""Cases and self-service JSON routes under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel

from aftersales.cases import self_service, service
from aftersales.cases.domain import CaseKind, CaseStatus
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseOut, CasePage, Preview
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.kit.pagination import PageRequest
from aftersales.orders.schemas import AddressIn
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["cases"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such order or case in your scope"},
    409: {"description": "refused by a policy or by the case's state; the message names which"},
}
SUBMITTERS = (Role.CUSTOMER, Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)
CASE_READERS = (*SUBMITTERS, Role.MERCHANT, Role.WAREHOUSE, Role.ARBITRATOR)
Number = Annotated[str, Path(max_length=64)]


def _via(principal: Principal) -> str:
    return {Role.CUSTOMER: "customer", Role.INTEGRATION: "api"}.get(principal.role, "agent")


class ActionResultOut(BaseModel):
    action: str
    done: bool
    message_en: str
    message_zh: str
    case_number: str | None = None


@router.post(
    "/cases/preview", response_model=Preview, responses=ERRORS, summary="Eligibility and outcome before submitting"
)
def preview_case(
    draft: CaseDraft,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*SUBMITTERS, scope=Scope.CASES_WRITE)),
) -> Preview:
    return service.preview(db, draft, principal)


@router.post("/cases", response_model=CaseOut, status_code=201, responses=ERRORS, summary="Submit an after-sales case")
def submit_case(
    draft: CaseDraft,
    idempotency_key: Annotated[
        str | None, Header(max_length=100, description="the same key twice creates one case")
    ] = None,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*SUBMITTERS, scope=Scope.CASES_WRITE)),
) -> CaseOut:
    return service.submit(db, draft, principal, via=_via(principal), idempotency_key=idempotency_key)


@router.get("/cases", response_model=CasePage, responses=ERRORS, summary="Cases you may see")
def list_cases(
    status: CaseStatus | None = None,
    kind: CaseKind | None = None,
    order: Annotated[str, Query(max_length=64)] = "",
    overdue: bool = False,
    escalated: Annotated[
        bool, Query(description="only cases whose review deadline passed and that wait for a supervisor")
    ] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*CASE_READERS, scope=Scope.CASES_READ)),
) -> CasePage:
    result = service.list_cases(
        db,
        principal,
        PageRequest(page, size),
        status=status.value if status else None,
        kind=kind.value if kind else None,
        order_number=order or None,
        overdue=overdue,
        escalated=escalated,
    )
    return CasePage(items=result.items, total=result.total, page=page, size=size)


@router.get("/cases/{number}", response_model=CaseOut, responses=ERRORS, summary="One case with its timeline")
def get_case(
    number: Number,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*CASE_READERS, scope=Scope.CASES_READ)),
) -> CaseOut:
    return service.get_case(db, number, principal)


@router.post("/cases/{number}/actions", response_model=CaseOut, responses=ERRORS, summary="Act on a case")
def act_on_case(
    number: Number,
    data: ActionIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*CASE_READERS, scope=Scope.CASES_WRITE)),
) -> CaseOut:
    return service.act(db, number, data, principal)


def _result(result: self_service.ActionResult, response: Response) -> ActionResultOut:
    if not result.done:
        response.status_code = 409
    return ActionResultOut(
        action=result.action,
        done=result.done,
        message_en=result.message_en,
        message_zh=result.message_zh,
        case_number=result.case_number,
    )


# A refused self-service action answers 409 with the same body as a done one (done: false).
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": ActionResultOut, "description": "the action was refused; the message says why"},
}

SELF = (Role.CUSTOMER, Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)


@router.post(
    "/orders/{number}/cancel", response_model=ActionResultOut, responses=ACTION_ERRORS, summary="Cancel an order"
)
def cancel_order(
    number: Number,
    response: Response,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*SELF, scope=Scope.ORDERS_ACT)),
) -> ActionResultOut:
    return _result(self_service.cancel_order(db, number, principal), response)


@router.post(
    "/orders/{number}/address",
    response_model=ActionResultOut,
    responses=ACTION_ERRORS,
    summary="Change the delivery address before dispatch",
)
def change_address(
    number: Number,
    address: AddressIn,
    response: Response,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*SELF, scope=Scope.ORDERS_ACT)),
) -> ActionResultOut:
    return _result(self_service.change_address(db, number, address, principal), response)


@router.post(
    "/orders/{number}/urge", response_model=ActionResultOut, responses=ACTION_ERRORS, summary="Urge delivery (催单)"
)
def urge(
    number: Number,
    response: Response,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*SELF, scope=Scope.ORDERS_ACT)),
) -> ActionResultOut:
    return _result(self_service.urge_delivery(db, number, principal), response)


@router.post(
    "/orders/{number}/lines/{line_no}/out-of-stock",
    response_model=ActionResultOut,
    responses=ACTION_ERRORS,
    summary="Report a line out of stock: the buyer is told and refunded",
)
def out_of_stock(
    number: Number,
    line_no: Annotated[int, Path(ge=1, le=1000)],
    response: Response,
    db: Database = Depends(get_db),
    principal: Principal = Depends(
        api_principal(Role.MERCHANT, Role.WAREHOUSE, Role.SUPERVISOR, Role.ADMIN, scope=Scope.ORDERS_ACT)
    ),
) -> ActionResultOut:
    return _result(self_service.report_out_of_stock(db, number, line_no, principal), response)
