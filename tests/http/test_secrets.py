"""No known secret: without a configured key the server makes its own random secrets on first
start, keeps them in its data folder (mode 0600) for every later start and every process, and
production refuses to start without explicit ones. A cookie or a gateway callback signed with the
old published default key is refused."""

from __future__ import annotations

import json
import stat
from base64 import b64encode
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from pydantic import ValidationError
from typer.testing import CliRunner

from aftersales.cli import app as cli_app
from aftersales.config import Settings, get_settings, reset_settings
from aftersales.db.uow import Database
from aftersales.identity.models import User
from aftersales.kit.access import Role
from aftersales.main import create_app
from aftersales.refunds import domain as refunds_domain

from ..factories import Factory

OLD_DEFAULT = "dev-secret-change-me"  # published in earlier releases: must never sign anything
CALLBACK = "/api/v1/refunds/gateway-callback"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Path]:
    """A default install: no secret configured, the data folder in a fresh directory."""
    folder = tmp_path / "var"
    monkeypatch.delenv("AFTERSALES_SECRET_KEY", raising=False)
    monkeypatch.delenv("AFTERSALES_REFUND_GATEWAY_CALLBACK_SECRET", raising=False)
    monkeypatch.setenv("AFTERSALES_DATA_DIR", str(folder))
    monkeypatch.setenv("AFTERSALES_ENV", "dev")
    reset_settings()
    yield folder
    reset_settings()


@pytest.fixture
def default_app(data_dir: Path, db: Database) -> FastAPI:
    return create_app(get_settings())


def forged_cookie(session: dict[str, object], key: str) -> str:
    """A session cookie exactly as Starlette's SessionMiddleware signs it."""
    data = b64encode(json.dumps(session).encode())
    return TimestampSigner(key).sign(data).decode()


def _secret_key_in(folder: str) -> str:
    reset_settings()
    return Settings(data_dir=folder).secret_key


def test_a_default_install_makes_its_own_secret_once_and_keeps_it_private(data_dir: Path) -> None:
    first = Settings()
    assert first.secret_key and first.secret_key != OLD_DEFAULT and len(first.secret_key) >= 32
    stored = data_dir / "secrets.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert Settings().secret_key == first.secret_key  # a restart reads the same file
    other = Settings(data_dir=str(data_dir.parent / "elsewhere"))
    assert other.secret_key != first.secret_key  # random, not derived from anything known


def test_processes_starting_together_agree_on_the_secret(data_dir: Path) -> None:
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(_secret_key_in, [str(data_dir)] * 8))
    assert len(set(keys)) == 1 and keys[0]
    assert json.loads((data_dir / "secrets.json").read_text())["secret_key"] == keys[0]


def test_the_old_published_key_is_refused_everywhere(data_dir: Path) -> None:
    with pytest.raises(ValidationError, match="AFTERSALES_SECRET_KEY"):
        Settings(secret_key=OLD_DEFAULT)


def test_a_session_forged_with_the_old_default_key_gets_nowhere(default_app: FastAPI, factory: Factory) -> None:
    admin = factory.user("root", Role.ADMIN)
    mallory = factory.user("mallory", Role.AGENT_T1)
    session = {"uid": admin.id, "csrf": "mine"}  # an admin's id and a CSRF token of the forger's choosing

    def as_cookie(key: str) -> dict[str, str]:
        return {"Cookie": f"aftersales_session={forged_cookie(session, key)}"}

    with TestClient(default_app, base_url="http://127.0.0.1") as client:
        page = client.get("/admin/users", headers=as_cookie(OLD_DEFAULT), follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        promoted = client.post(
            f"/admin/users/{mallory.id}/role",
            data={"csrf_token": "mine", "role": "admin"},
            headers=as_cookie(OLD_DEFAULT),
            follow_redirects=False,
        )
        assert promoted.status_code in (303, 403), promoted.text
        assert promoted.headers.get("location", "/login").startswith("/login")
        # The same cookie signed with the install's own key does work: the forgery fails, not the test.
        page = client.get("/admin/users", headers=as_cookie(get_settings().secret_key), follow_redirects=False)
        assert page.status_code == 200
    with default_app.state.db.read() as uow:
        promoted_user = uow.session.get(User, mallory.id)
        assert promoted_user is not None and promoted_user.role == Role.AGENT_T1.value


def test_a_callback_signed_with_the_old_default_or_the_session_key_is_401(default_app: FastAPI) -> None:
    body = json.dumps({"gateway_ref": "gw_nobody", "status": "succeeded"}).encode()
    with TestClient(default_app, base_url="http://127.0.0.1") as client:
        for key in (OLD_DEFAULT, get_settings().secret_key):
            signature = refunds_domain.callback_signature(key, body)
            answer = client.post(CALLBACK, content=body, headers={"X-Gateway-Signature": signature})
            assert answer.status_code == 401, (key, answer.text)
        # The generated callback secret is the one that counts (the reference is unknown: 404).
        own = refunds_domain.callback_signature(default_app.state.settings.refund_gateway_callback_secret, body)
        assert client.post(CALLBACK, content=body, headers={"X-Gateway-Signature": own}).status_code == 404


@pytest.mark.parametrize(
    ("configured", "missing"),
    [
        ({}, "AFTERSALES_SECRET_KEY"),
        ({"AFTERSALES_SECRET_KEY": "k" * 40}, "AFTERSALES_REFUND_GATEWAY_CALLBACK_SECRET"),
        ({"AFTERSALES_REFUND_GATEWAY_CALLBACK_SECRET": "c" * 40}, "AFTERSALES_SECRET_KEY"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "worker", "mail-in"])
def test_production_refuses_to_start_without_explicit_secrets(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, configured: dict[str, str], missing: str, command: str
) -> None:
    monkeypatch.setenv("AFTERSALES_ENV", "production")
    for name, value in configured.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    result = CliRunner().invoke(cli_app, [command])
    assert result.exit_code == 2, result.output
    assert missing in result.output and "production" in result.output
    assert not (data_dir / "secrets.json").exists()
