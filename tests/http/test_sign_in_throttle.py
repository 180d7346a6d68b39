"""Sign-in throttling slows a password guesser without locking the account's owner out: failures
count per account and address, per address, and per account from unknown addresses; a
successful sign-in clears that account's count at that address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from aftersales.kit import clock
from aftersales.kit.access import Role

from ..factories import PASSWORD, Factory, csrf_from

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ATTACKER = "203.0.113.66"
VICTIM_HOME = "198.51.100.7"


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


def browser(app: FastAPI, address: str) -> TestClient:
    """A browser at its own client address (what request.client.host reports)."""
    return TestClient(app, base_url="http://127.0.0.1", client=(address, 40000))


def attempt(client: TestClient, username: str, password: str) -> Response:
    token = csrf_from(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token, "next": "/"}
    return client.post("/login", data=data, follow_redirects=False)


def test_the_guesser_is_slowed_and_the_owner_still_signs_in_from_elsewhere(app: FastAPI, factory: Factory) -> None:
    factory.user("victim", Role.AGENT_T1)
    attacker = browser(app, ATTACKER)
    assert [attempt(attacker, "victim", f"guess-{i}").status_code for i in range(5)] == [401] * 5
    slowed = attempt(attacker, "victim", "guess-6")
    assert slowed.status_code == 429
    assert slowed.headers["Retry-After"] == "900"  # the oldest of the five leaves the 15-minute window
    assert "登录失败次数过多，请 15 分钟后再试。" in slowed.text
    # Even guessing right does not get the guesser in while slowed.
    assert attempt(attacker, "victim", PASSWORD).status_code == 429

    owner = browser(app, VICTIM_HOME)
    assert attempt(owner, "victim", PASSWORD).status_code == 303
    assert owner.get("/api/v1/me").json()["username"] == "victim"


def test_the_wait_shrinks_as_failures_leave_the_window(app: FastAPI, factory: Factory) -> None:
    factory.user("victim", Role.AGENT_T1)
    attacker = browser(app, ATTACKER)
    for i in range(5):
        attempt(attacker, "victim", f"guess-{i}")
        clock.advance(timedelta(minutes=1))
    slowed = attempt(attacker, "victim", "guess-6")  # 5 minutes after the first failure
    assert slowed.status_code == 429
    assert slowed.headers["Retry-After"] == str(10 * 60)
    assert "10 分钟" in slowed.text
    clock.advance(timedelta(minutes=10))
    assert attempt(attacker, "victim", "guess-7").status_code == 401  # one more guess, then slowed again
    assert attempt(attacker, "victim", "guess-8").status_code == 429


def test_a_successful_sign_in_clears_the_count_at_that_address(app: FastAPI, factory: Factory) -> None:
    factory.user("forgetful", Role.AGENT_T1)
    person = browser(app, VICTIM_HOME)
    assert [attempt(person, "forgetful", "typo").status_code for _ in range(4)] == [401] * 4
    assert attempt(person, "forgetful", PASSWORD).status_code == 303
    person.cookies.clear()
    assert [attempt(person, "forgetful", "typo").status_code for _ in range(5)] == [401] * 5
    assert attempt(person, "forgetful", "typo").status_code == 429


def test_many_guessing_addresses_do_not_lock_out_an_address_the_owner_signed_in_from(
    app: FastAPI, factory: Factory
) -> None:
    factory.user("victim", Role.AGENT_T1)
    owner = browser(app, VICTIM_HOME)
    assert attempt(owner, "victim", PASSWORD).status_code == 303
    clock.advance(timedelta(hours=2))
    for n in range(4):  # four addresses, five guesses each: 20 failures on the account
        guesser = browser(app, f"203.0.113.{n + 1}")
        assert [attempt(guesser, "victim", "guess").status_code for _ in range(5)] == [401] * 5
    # An address never seen with this account waits; the owner's own address does not.
    assert attempt(browser(app, "192.0.2.200"), "victim", PASSWORD).status_code == 429
    owner.cookies.clear()
    assert attempt(owner, "victim", PASSWORD).status_code == 303


def test_one_address_guessing_many_accounts_is_slowed_for_every_account(app: FastAPI, factory: Factory) -> None:
    factory.user("agent-a", Role.AGENT_T1)
    sprayer = browser(app, ATTACKER)
    for i in range(20):
        assert attempt(sprayer, f"name-{i}", "guess").status_code == 401
    assert attempt(sprayer, "agent-a", PASSWORD).status_code == 429
    assert attempt(browser(app, VICTIM_HOME), "agent-a", PASSWORD).status_code == 303
