"""Pure rules of identity: who may be bound to what, password and login-throttle policies."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aftersales.kit.access import Role

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]{2,39}$")
MIN_PASSWORD_LENGTH = 8

# Roles whose person acts for one merchant, and must be bound to it.
MERCHANT_BOUND = frozenset({Role.MERCHANT, Role.WAREHOUSE})
ASSIGNABLE_ROLES = tuple(Role)


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
