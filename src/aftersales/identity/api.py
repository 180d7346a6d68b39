"""Identity JSON routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from aftersales.db.uow import Database
from aftersales.identity import service
from aftersales.identity.schemas import MeOut, UserOut
from aftersales.kit.access import Principal, Role, Scope
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["identity"])


@router.get("/me", response_model=MeOut, summary="Who the token or session belongs to")
def me(principal: Principal = Depends(api_principal())) -> MeOut:
    return MeOut(
        user_id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role,
        customer_id=principal.customer_id,
        merchant_id=principal.merchant_id,
    )


@router.get("/users", response_model=list[UserOut], summary="All accounts (administrators only)")
def users(
    role: Role | None = None,
    db: Database = Depends(get_db),
    _: Principal = Depends(api_principal(Role.ADMIN, scope=Scope.USERS_READ)),
) -> list[UserOut]:
    return service.list_users(db, role.value if role else None)
