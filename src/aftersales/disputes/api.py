"""Disputes JSON routes under /api/v1 (the same scopes as the case pages: cases:read, cases:write)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from aftersales.db.uow import Database
from aftersales.disputes import service
from aftersales.disputes.schemas import (
    AcceptIn,
    AppealDecisionIn,
    DepositOut,
    DisputeOut,
    DisputeSummary,
    EscalateIn,
    EvidenceIn,
    NoteIn,
    RequestEvidenceIn,
    RuleIn,
)
from aftersales.kit.access import Principal, Role, Scope
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, because FastAPI reads its signature (path, body,
# role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["disputes"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
    404: {"description": "no such case or dispute in your scope"},
    409: {"description": "refused by the dispute's state or deadline; the message names which"},
    422: {"description": "a field is missing or wrong"},
}
PARTIES = (Role.CUSTOMER, Role.MERCHANT, Role.ARBITRATOR, Role.SUPERVISOR, Role.ADMIN, Role.AGENT_T2)
ARBITERS = (Role.ARBITRATOR, Role.SUPERVISOR, Role.ADMIN)
Number = Annotated[str, Path(max_length=24)]
READ = Scope.CASES_READ
WRITE = Scope.CASES_WRITE


@router.post(
    "/disputes", response_model=DisputeOut, status_code=201, responses=ERRORS, summary="Ask the platform to step in"
)
def escalate(
    data: EscalateIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(
        api_principal(Role.CUSTOMER, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN, scope=WRITE)
    ),
) -> DisputeOut:
    return service.escalate(db, data, principal)


@router.get("/disputes", response_model=list[DisputeSummary], responses=ERRORS, summary="Open disputes by deadline")
def list_disputes(
    db: Database = Depends(get_db), principal: Principal = Depends(api_principal(*PARTIES, scope=READ))
) -> list[DisputeSummary]:
    return service.queue(db, principal)


@router.get(
    "/disputes/{number}", response_model=DisputeOut, responses=ERRORS, summary="A dispute with its evidence chain"
)
def get_dispute(
    number: Number, db: Database = Depends(get_db), principal: Principal = Depends(api_principal(*PARTIES, scope=READ))
) -> DisputeOut:
    return service.get_dispute(db, number, principal)


@router.post(
    "/disputes/{number}/accept", response_model=DisputeOut, responses=ERRORS, summary="Accept and open evidence round 1"
)
def accept(
    number: Number,
    data: AcceptIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ARBITERS, scope=WRITE)),
) -> DisputeOut:
    return service.accept(db, number, data, principal)


@router.post(
    "/disputes/{number}/evidence-requests",
    response_model=DisputeOut,
    responses=ERRORS,
    summary="Open another evidence round",
)
def request_evidence(
    number: Number,
    data: RequestEvidenceIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ARBITERS, scope=WRITE)),
) -> DisputeOut:
    return service.request_evidence(db, number, data, principal)


@router.post(
    "/disputes/{number}/evidence",
    response_model=DisputeOut,
    responses=ERRORS,
    summary="Add evidence (text; files through the page)",
)
def submit_evidence(
    number: Number,
    data: EvidenceIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*PARTIES, scope=WRITE)),
) -> DisputeOut:
    return service.submit_evidence(db, number, data, principal)


@router.post(
    "/disputes/{number}/ruling",
    response_model=DisputeOut,
    responses=ERRORS,
    summary="Rule: liability, outcome, reasons, evidence",
)
def rule(
    number: Number,
    data: RuleIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*ARBITERS, scope=WRITE)),
) -> DisputeOut:
    return service.rule(db, number, data, principal)


@router.post(
    "/disputes/{number}/enforced",
    response_model=DisputeOut,
    responses=ERRORS,
    summary="Offline refund proven, or return received",
)
def confirm_enforced(
    number: Number,
    data: NoteIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.MERCHANT, *ARBITERS, scope=WRITE)),
) -> DisputeOut:
    return service.confirm_enforced(db, number, principal, data.note)


@router.post(
    "/disputes/{number}/appeal", response_model=DisputeOut, responses=ERRORS, summary="The merchant appeals the ruling"
)
def appeal(
    number: Number,
    data: NoteIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.MERCHANT, scope=WRITE)),
) -> DisputeOut:
    return service.appeal(db, number, data.note, principal)


@router.post(
    "/disputes/{number}/appeal-decision", response_model=DisputeOut, responses=ERRORS, summary="Decide the appeal"
)
def decide_appeal(
    number: Number,
    data: AppealDecisionIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.SUPERVISOR, Role.ADMIN, scope=WRITE)),
) -> DisputeOut:
    return service.decide_appeal(db, number, data, principal)


@router.post(
    "/disputes/{number}/settle", response_model=DisputeOut, responses=ERRORS, summary="Settled between the two sides"
)
def settle(
    number: Number,
    data: NoteIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(*PARTIES, scope=WRITE)),
) -> DisputeOut:
    return service.settle(db, number, data.note, principal)


@router.post("/disputes/{number}/withdraw", response_model=DisputeOut, responses=ERRORS, summary="The buyer withdraws")
def withdraw(
    number: Number,
    data: NoteIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.CUSTOMER, scope=WRITE)),
) -> DisputeOut:
    return service.withdraw(db, number, data.note, principal)


@router.get(
    "/merchants/{merchant_id}/deposit", response_model=DepositOut, responses=ERRORS, summary="A merchant's deposit"
)
def deposit(
    merchant_id: int,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.MERCHANT, *ARBITERS, scope=READ)),
) -> DepositOut:
    return service.deposit(db, merchant_id, principal)
