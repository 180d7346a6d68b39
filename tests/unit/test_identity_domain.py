"""Identity rules: usernames, passwords, account bindings, the login throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.identity.domain import (
    MIN_PASSWORD_LENGTH,
    binding_problem,
    login_blocked,
    password_problem,
    username_problem,
    window_start,
)
from aftersales.kit.access import Role


@pytest.mark.parametrize("name", ["abc", "li.na", "agent_01", "wh-sh-1", "9lives", "a" * 40])
def test_acceptable_usernames(name: str) -> None:
    assert username_problem(name) is None


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 41, "Alice", "_lead", ".dot", "-dash", "li na", "李娜", "user@example", ""],
)
def test_unacceptable_usernames_get_a_sentence(name: str) -> None:
    problem = username_problem(name)
    assert problem is not None
    assert "3-40 lowercase" in problem


def test_a_trailing_newline_is_not_part_of_an_acceptable_username() -> None:
    assert username_problem("abc\n") is not None


def test_password_shorter_than_the_minimum_is_refused() -> None:
    problem = password_problem("x" * (MIN_PASSWORD_LENGTH - 1), "lina")
    assert problem == f"the password needs at least {MIN_PASSWORD_LENGTH} characters"


def test_password_of_exactly_the_minimum_length_is_fine() -> None:
    assert password_problem("x" * MIN_PASSWORD_LENGTH, "lina") is None


def test_password_equal_to_the_username_is_refused_whatever_the_case() -> None:
    assert password_problem("supervisor", "supervisor") == "the password must differ from the username"
    assert password_problem("SuperVisor", "supervisor") is not None


def test_customer_needs_a_customer_record() -> None:
    assert binding_problem(Role.CUSTOMER, None, None) == "a customer account must be linked to a customer record"
    assert binding_problem(Role.CUSTOMER, 7, None) is None


@pytest.mark.parametrize("role", [Role.MERCHANT, Role.WAREHOUSE])
def test_merchant_staff_must_be_bound_to_a_merchant(role: Role) -> None:
    assert binding_problem(role, None, None) == f"a {role.value} account must be bound to one merchant"
    assert binding_problem(role, None, 3) is None


@pytest.mark.parametrize(
    "role", [Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.RIDER, Role.ARBITRATOR, Role.ADMIN, Role.CUSTOMER]
)
def test_other_roles_cannot_be_bound_to_a_merchant(role: Role) -> None:
    problem = binding_problem(role, 1 if role is Role.CUSTOMER else None, 3)
    assert problem == f"a {role.value} account cannot be bound to a merchant"


def test_integration_may_be_bound_to_a_merchant_or_not() -> None:
    assert binding_problem(Role.INTEGRATION, None, None) is None
    assert binding_problem(Role.INTEGRATION, None, 3) is None


@pytest.mark.parametrize("role", [Role.AGENT_T1, Role.ADMIN, Role.RIDER])
def test_unbound_staff_roles_need_no_binding(role: Role) -> None:
    assert binding_problem(role, None, None) is None


@pytest.mark.parametrize(("failures", "blocked"), [(0, False), (4, False), (5, True), (6, True)])
def test_login_is_blocked_from_the_maximum_number_of_failures(failures: int, blocked: bool) -> None:
    assert login_blocked(failures, 5) is blocked


def test_window_starts_the_given_seconds_before_now() -> None:
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert window_start(now, 900) == now - timedelta(minutes=15)
