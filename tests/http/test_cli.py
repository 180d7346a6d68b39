"""The `aftersales` command against the test database: accounts and API tokens end to end."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aftersales.cli import app as cli_app
from aftersales.config import Settings, reset_settings

from ..factories import Factory, Role


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    # `settings` points AFTERSALES_DATABASE_URL at the test database; forget any cached settings.
    reset_settings()
    return CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of a (Typer's own vendored) click group, sub-groups included."""
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if hasattr(command, "commands"):
            found.extend(_commands(command, path))
    return found


def test_help_works_for_every_command(runner: CliRunner) -> None:
    commands = _commands(typer.main.get_command(cli_app))
    expected = {"serve", "worker", "migrate", "demo", "createuser", "token", "token create", "token revoke"}
    assert {" ".join(c) for c in commands} >= expected  # new commands are covered by the loop below
    for path in [(), *commands]:
        result = runner.invoke(cli_app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output, path


def test_createuser_and_token_lifecycle(runner: CliRunner, client: TestClient, factory: Factory) -> None:
    created = runner.invoke(cli_app, ["createuser", "opsfeed", "--role", "integration", "--password", "s3cret-pass"])
    assert created.exit_code == 0, created.output
    assert "created opsfeed (integration)" in created.output

    issued = runner.invoke(
        cli_app, ["token", "create", "--user", "opsfeed", "--name", "erp", "--scope", "orders:write"]
    )
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token and "\n" not in token and " " not in token
    prefix = token[3:11]
    assert prefix in issued.stderr

    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["username"] == "opsfeed" and me.json()["role"] == "integration"
    # The token does what its scope says and nothing more.
    assert "orders:write" in issued.stderr
    refused = client.get("/api/v1/tickets", headers=headers)
    assert refused.status_code == 403 and "tickets:read" in refused.json()["message"]

    revoked = runner.invoke(cli_app, ["token", "revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked token {prefix}" in revoked.output
    gone = client.get("/api/v1/me", headers=headers)
    assert gone.status_code == 401 and "revoked" in gone.json()["message"]
    # Revoking twice is harmless.
    assert runner.invoke(cli_app, ["token", "revoke", prefix]).exit_code == 0


def test_createuser_binds_customers_and_merchants(runner: CliRunner, client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.put_order(customer="C9", merchant="pop-a")
    customer = runner.invoke(
        cli_app, ["createuser", "cust9", "--role", "customer", "--customer", "C9", "--password", "s3cret-pass"]
    )
    assert customer.exit_code == 0, customer.output
    shop = runner.invoke(
        cli_app, ["createuser", "shopa", "--role", "merchant", "--merchant", "pop-a", "--password", "s3cret-pass"]
    )
    assert shop.exit_code == 0, shop.output
    for username in ("cust9", "shopa"):
        token = runner.invoke(cli_app, ["token", "create", "--user", username, "--scope", "orders:read"]).stdout.strip()
        orders = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"}).json()
        assert [o["number"] for o in orders["items"]] == ["SO-1"], username


def test_token_create_needs_scopes_the_role_may_hold(runner: CliRunner, factory: Factory) -> None:
    factory.user("feedx", Role.INTEGRATION)
    for args, words in (
        ([], "at least one scope"),
        (["--scope", "orders:wirte"], "orders:wirte"),
        (["--scope", "policies:write"], "may not have policies:write"),
    ):
        result = runner.invoke(cli_app, ["token", "create", "--user", "feedx", *args])
        assert result.exit_code == 2, result.output
        assert "error:" in result.output and words in result.output
        assert "orders:write" in result.output  # it says what the role may have


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["createuser", "x", "--role", "agent_t1", "--password", "s3cret-pass"], "3-40 lowercase"),
        (["createuser", "shortpw", "--role", "agent_t1", "--password", "short"], "at least 8"),
        (["createuser", "ghost", "--role", "customer", "--customer", "NOPE", "--password", "s3cret-pass"], "NOPE"),
        (["createuser", "ghost", "--role", "merchant", "--merchant", "nope", "--password", "s3cret-pass"], "nope"),
        (["createuser", "lonely", "--role", "merchant", "--password", "s3cret-pass"], "bound to one merchant"),
        (["token", "create", "--user", "nobody", "--scope", "orders:read"], "nobody"),
        (["token", "revoke", "zzzzzzzz"], "zzzzzzzz"),
    ],
    ids=[
        "bad-name",
        "short-password",
        "unknown-customer",
        "unknown-merchant",
        "unbound",
        "no-user",
        "no-token",
    ],
)
def test_cli_refusals_are_sentences_with_exit_code_2(
    runner: CliRunner, db: object, args: list[str], words: str
) -> None:
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and words in result.output


def test_createuser_refuses_a_taken_name(runner: CliRunner, factory: Factory) -> None:
    args = ["createuser", "twice", "--role", "agent_t1", "--password", "s3cret-pass"]
    assert runner.invoke(cli_app, args).exit_code == 0
    again = runner.invoke(cli_app, args)
    assert again.exit_code == 2 and "taken" in again.output
    # The prompt path: the password is asked twice and must match.
    prompted = runner.invoke(
        cli_app, ["createuser", "prompted", "--role", "agent_t1"], input="s3cret-pass\ns3cret-pass\n"
    )
    assert prompted.exit_code == 0, prompted.output
