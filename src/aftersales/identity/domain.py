"""Pure rules of identity: who may be bound to what, which scopes a token may hold, password and
login-throttle policies."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.kit.access import Role, Scope

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]{2,39}$")
MIN_PASSWORD_LENGTH = 8

# Roles whose person acts for one merchant, and must be bound to it.
MERCHANT_BOUND = frozenset({Role.MERCHANT, Role.WAREHOUSE})
ASSIGNABLE_ROLES = tuple(Role)


_R = Role
_STAFF = frozenset({_R.AGENT_T1, _R.AGENT_T2, _R.SUPERVISOR, _R.ADMIN})
# Which roles may hold each scope: the roles the API routes needing that scope admit. A token can
# never do more than its user's role, so a scope outside this table would only be dead weight.
SCOPE_ROLES: dict[Scope, frozenset[Role]] = {
    Scope.ORDERS_READ: frozenset(Role),
    Scope.ORDERS_WRITE: frozenset({_R.INTEGRATION, _R.ADMIN}),
    Scope.ORDERS_ACT: _STAFF | {_R.CUSTOMER, _R.MERCHANT, _R.WAREHOUSE},
    Scope.LOGISTICS_WRITE: frozenset({_R.INTEGRATION, _R.ADMIN, _R.RIDER, _R.WAREHOUSE}),
    Scope.CASES_READ: _STAFF | {_R.CUSTOMER, _R.INTEGRATION, _R.MERCHANT, _R.WAREHOUSE, _R.ARBITRATOR},
    Scope.CASES_WRITE: _STAFF | {_R.CUSTOMER, _R.INTEGRATION, _R.MERCHANT, _R.WAREHOUSE, _R.ARBITRATOR},
    Scope.TICKETS_READ: _STAFF | {_R.CUSTOMER, _R.INTEGRATION, _R.MERCHANT, _R.ARBITRATOR},
    Scope.TICKETS_WRITE: _STAFF | {_R.CUSTOMER, _R.INTEGRATION, _R.MERCHANT, _R.ARBITRATOR},
    Scope.KNOWLEDGE_READ: frozenset(Role),
    Scope.INBOX_READ: frozenset({_R.CUSTOMER}),
    Scope.INBOX_WRITE: frozenset({_R.CUSTOMER}),
    Scope.POLICIES_READ: _STAFF,
    Scope.POLICIES_WRITE: frozenset({_R.ADMIN}),
    Scope.USERS_READ: frozenset({_R.ADMIN}),
}


def scopes_for_role(role: Role) -> frozenset[Scope]:
    """Every scope a token of this role may hold (also what tokens issued before scopes got)."""
    return frozenset(scope for scope, roles in SCOPE_ROLES.items() if role in roles)


def parse_scopes(names: list[str]) -> tuple[frozenset[Scope], list[str]]:
    """Known scopes, and the names that are not scopes."""
    known = {s.value: s for s in Scope}
    return frozenset(known[n] for n in names if n in known), [n for n in names if n not in known]


def scope_problem(role: Role, names: list[str]) -> str | None:
    """Why these scopes cannot be given to a token of this role, or None."""
    allowed = sorted(s.value for s in scopes_for_role(role))
    if not names:
        return f"choose at least one scope for the token; a {role.value} may have: {', '.join(allowed)}"
    _, unknown = parse_scopes(names)
    if unknown:
        return f"unknown scope(s) {', '.join(unknown)}; a {role.value} may have: {', '.join(allowed)}"
    refused = sorted(n for n in set(names) if n not in allowed)
    if refused:
        return f"a {role.value} may not have {', '.join(refused)}; it may have: {', '.join(allowed)}"
    return None


def encode_scopes(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(s.value for s in scopes))


def decode_scopes(stored: str) -> frozenset[Scope]:
    return parse_scopes(stored.split())[0]


def username_problem(username: str) -> str | None:
    if not USERNAME_PATTERN.fullmatch(username):
        return "use 3-40 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def password_problem(password: str, username: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password needs at least {MIN_PASSWORD_LENGTH} characters"
    if password.lower() == username.lower():
        return "the password must differ from the username"
    return None


def binding_problem(role: Role, customer_id: int | None, merchant_id: int | None) -> str | None:
    """A customer account needs its customer record; merchant and warehouse staff their merchant."""
    if role is Role.CUSTOMER and customer_id is None:
        return "a customer account must be linked to a customer record"
    if role in MERCHANT_BOUND and merchant_id is None:
        return f"a {role.value} account must be bound to one merchant"
    if role not in MERCHANT_BOUND and role is not Role.INTEGRATION and merchant_id is not None:
        return f"a {role.value} account cannot be bound to a merchant"
    return None


def login_blocked(failures_in_window: int, max_failures: int) -> bool:
    """Throttle password guessing per username and per address."""
    return failures_in_window >= max_failures


def window_start(now: datetime, window_seconds: int) -> datetime:
    return now - timedelta(seconds=window_seconds)


# An address the account signed in from within this time is the owner's: guesses from elsewhere
# at the account do not slow it down.
KNOWN_ADDRESS_DAYS = 30
# One address may fail this many times the per-account limit across all names; the account this
# many times from all unknown addresses together (several guessing machines).
WIDE_LIMIT_FACTOR = 4


@dataclass(frozen=True, slots=True)
class RecentFailures:
    """Failed sign-ins inside the window, newest first, each list at most as long as its limit.

    at_address: this account from this address, since its last success there;
    from_address: any account from this address;
    on_account: this account from any address, since its last success anywhere."""

    at_address: Sequence[datetime]
    from_address: Sequence[datetime]
    on_account: Sequence[datetime]
    known_address: bool


def login_wait(failures: RecentFailures, now: datetime, max_failures: int, window_seconds: int) -> timedelta:
    """How long this sign-in must wait (zero: go ahead).

    The guesser is slowed by their address and by the account at their address; the account as a
    whole is slowed only for addresses it has not signed in from recently, so someone guessing at
    a victim's account cannot lock the victim out of their own machine. Each key allows its limit
    of failures per sliding window: the wait ends when enough failures have left the window."""
    window = timedelta(seconds=window_seconds)
    keyed = [(failures.at_address, max_failures), (failures.from_address, max_failures * WIDE_LIMIT_FACTOR)]
    if not failures.known_address:
        keyed.append((failures.on_account, max_failures * WIDE_LIMIT_FACTOR))
    wait = timedelta(0)
    for newest_first, limit in keyed:
        if login_blocked(len(newest_first), limit):
            wait = max(wait, newest_first[limit - 1] + window - now)
    return wait


def wait_minutes(wait: timedelta) -> int:
    """Whole minutes to tell a person, rounded up so they never come back too early."""
    return max(1, math.ceil(wait.total_seconds() / 60))
