"""Identity rules: usernames, passwords, account bindings, the login throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.identity.domain import (
    MIN_PASSWORD_LENGTH,
    RecentFailures,
    binding_problem,
    login_blocked,
    login_wait,
    password_problem,
    username_problem,
    wait_minutes,
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


# --- the sign-in throttle's wait ------------------------------------------------------------------
def _at(minute: int) -> datetime:
    return datetime(2026, 11, 2, 9, minute, tzinfo=UTC)


def _failures(at_address: int = 0, from_address: int = 0, on_account: int = 0, known: bool = False) -> RecentFailures:
    return RecentFailures(
        at_address=[_at(10)] * at_address,
        from_address=[_at(10)] * from_address,
        on_account=[_at(10)] * on_account,
        known_address=known,
    )


@pytest.mark.parametrize(
    ("failures", "wait_minutes_"),
    [
        (_failures(at_address=4, from_address=19, on_account=19), 0),
        (_failures(at_address=5, from_address=5, on_account=5), 15),  # this account from this address
        (_failures(from_address=20), 15),  # this address across names
        (_failures(on_account=20), 15),  # the account from everywhere, and this address is unknown
        (_failures(on_account=20, known=True), 0),  # ...but the owner's own address goes ahead
        (_failures(at_address=5, on_account=20, known=True), 15),  # known, yet guessed at from here
    ],
)
def test_login_wait_by_key(failures: RecentFailures, wait_minutes_: int) -> None:
    assert login_wait(failures, _at(10), 5, 900) == timedelta(minutes=wait_minutes_)


def test_the_wait_ends_when_the_fifth_newest_failure_leaves_the_window() -> None:
    newest_first = [_at(m) for m in (9, 8, 7, 6, 5, 1)]
    failures = RecentFailures(at_address=newest_first[:5], from_address=[], on_account=[], known_address=False)
    assert login_wait(failures, _at(10), 5, 900) == timedelta(minutes=10)  # 09:05 + 15 min - 09:10
    assert wait_minutes(timedelta(seconds=61)) == 2
    assert wait_minutes(timedelta(seconds=1)) == 1
