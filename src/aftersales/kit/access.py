"""Who is acting: the roles and the principal every scoped query receives.

Roles live here, not in the identity context, because every context scopes its queries by
them; this is the shared kernel that keeps contexts from importing identity's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT_T1 = "agent_t1"
    AGENT_T2 = "agent_t2"
    SUPERVISOR = "supervisor"
    MERCHANT = "merchant"
    WAREHOUSE = "warehouse"
    RIDER = "rider"
    ARBITRATOR = "arbitrator"
    ADMIN = "admin"
    INTEGRATION = "integration"


class Scope(StrEnum):
    """What an API token may do, chosen when it is created; each /api/v1 route needs one.

    A signed-in person (a session) is not limited by scopes, only by the role."""

    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    ORDERS_ACT = "orders:act"
    LOGISTICS_WRITE = "logistics:write"
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    TICKETS_READ = "tickets:read"
    TICKETS_WRITE = "tickets:write"
    KNOWLEDGE_READ = "knowledge:read"
    INBOX_READ = "inbox:read"
    INBOX_WRITE = "inbox:write"
    POLICIES_READ = "policies:read"
    POLICIES_WRITE = "policies:write"
    USERS_READ = "users:read"


# Roles that see every order on the platform (customer service and platform staff).
PLATFORM_STAFF = frozenset({Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ARBITRATOR, Role.ADMIN})
# Roles whose person or system acts for one merchant when bound to it.
MERCHANT_SCOPED = frozenset({Role.MERCHANT, Role.WAREHOUSE, Role.INTEGRATION})
# Roles that may feed orders and logistics events from outside systems.
ORDER_WRITERS = frozenset({Role.INTEGRATION, Role.ADMIN})
LOGISTICS_WRITERS = frozenset({Role.INTEGRATION, Role.ADMIN, Role.RIDER, Role.WAREHOUSE})


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in person or integration, with the ids that bound what it may see."""

    user_id: int
    username: str
    role: Role
    display_name: str = ""
    customer_id: int | None = None
    merchant_id: int | None = None
    rider_id: int | None = None
    # The scopes of the API token in use; None for a signed-in person (the role alone decides).
    scopes: frozenset[Scope] | None = None

    @property
    def is_platform_staff(self) -> bool:
        return self.role in PLATFORM_STAFF

    def has(self, *roles: Role) -> bool:
        return self.role in roles

    def may(self, scope: Scope) -> bool:
        return self.scopes is None or scope in self.scopes


SYSTEM = Principal(user_id=0, username="system", role=Role.ADMIN, display_name="system")
