"""Policies JSON routes under /api/v1: administrators edit, supervisors read, agents dry-run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.rules import service
from aftersales.rules.schemas import DryRunIn, DryRunOut, PolicyIn, PolicyOut
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["policies"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
}
READERS = (Role.ADMIN, Role.SUPERVISOR)
DRY_RUNNERS = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT_T1, Role.AGENT_T2)
Key = Annotated[str, Path(max_length=64)]


@router.get("/policies", response_model=list[PolicyOut], responses=ERRORS, summary="All policies in walk order")
def list_policies(
    db: Database = Depends(get_db), _: Principal = Depends(api_principal(*READERS, scope=Scope.POLICIES_READ))
) -> list[PolicyOut]:
    return service.list_policies(db)


@router.post(
    "/policies/dry-run",
    response_model=DryRunOut,
    responses={**ERRORS, 404: {"description": "unknown order, line or policy"}, 422: {"description": "bad facts"}},
    summary="Decide on explicit facts or on a real order line, changing nothing",
)
def dry_run(
    data: DryRunIn,
    db: Database = Depends(get_db),
    _: Principal = Depends(api_principal(*DRY_RUNNERS, scope=Scope.POLICIES_READ)),
) -> DryRunOut:
    return service.run_dry_run(db, data)


@router.get(
    "/policies/{key}",
    response_model=PolicyOut,
    responses={**ERRORS, 404: {"description": "no such policy"}},
    summary="One policy with its definition",
)
def get_policy(
    key: Key, db: Database = Depends(get_db), _: Principal = Depends(api_principal(*READERS, scope=Scope.POLICIES_READ))
) -> PolicyOut:
    return service.get_policy(db, key)


@router.put(
    "/policies/{key}",
    response_model=PolicyOut,
    responses={
        **ERRORS,
        404: {"description": "no such policy"},
        409: {"description": "changed by someone else since the given version"},
        422: {"description": "the definition cannot be used; the message says where"},
    },
    summary="Change a policy's definition, priority or whether it is on",
)
def put_policy(
    key: Key,
    data: PolicyIn,
    db: Database = Depends(get_db),
    principal: Principal = Depends(api_principal(Role.ADMIN, scope=Scope.POLICIES_WRITE)),
) -> PolicyOut:
    return service.update_policy(db, key, data.definition, data.enabled, data.priority, principal, data.version)
