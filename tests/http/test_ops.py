"""Operations: liveness, Prometheus metrics, and a polite 503 when the database is gone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from aftersales.config import Settings
from aftersales.kit.access import Role
from aftersales.main import create_app

from ..factories import Factory, csrf_from
from ._support import bearer, sign_in

DOWN_MESSAGE = "The database is unavailable right now. Please try again in a moment."


def test_healthz_reports_ok(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_api_docs_are_public_and_self_hosted(client: TestClient) -> None:
    schema = client.get("/openapi.json")
    assert schema.status_code == 200 and "/api/v1/orders" in schema.json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text):
        assert client.get(asset).status_code == 200, asset


def _count(metrics: str, route: str, status: str, method: str = "GET") -> float:
    pattern = (
        rf'^aftersales_http_requests_total\{{method="{method}",route="{re.escape(route)}",status="{status}"\}} (\S+)$'
    )
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    before = client.get("/metrics").text
    assert "# TYPE aftersales_http_requests_total counter" in before
    assert "aftersales_http_request_seconds_bucket" in before
    healthz = _count(before, "/healthz", "200")
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page-4711")
    after = client.get("/metrics")
    assert after.status_code == 200 and after.headers["content-type"].startswith("text/plain")
    assert _count(after.text, "/healthz", "200") == healthz + 2
    # Unknown paths share one label, so scanners cannot blow up the series count.
    assert "no-such-page-4711" not in after.text
    assert _count(after.text, "unmatched", "404") >= 1


def test_metrics_keep_api_and_pages_apart(client: TestClient) -> None:
    client.get("/api/v1/orders/SO-XYZ")
    metrics = client.get("/metrics").text
    assert _count(metrics, "/api/v1/orders/{number}", "401") >= 1
    assert "SO-XYZ" not in metrics


@pytest.fixture(
    params=["postgresql", "sqlite"],
    ids=["postgresql-port-closed", "sqlite-file-is-a-directory"],
)
def down_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """An app whose database cannot be reached: nothing listens on port 1, or the SQLite
    'file' is a directory that cannot be opened."""
    if request.param == "postgresql":
        url = "postgresql://postgres@127.0.0.1:1/none"
    else:
        target = tmp_path / "not-a-file.db"
        target.mkdir()
        url = f"sqlite:///{target}"
    settings = Settings(database_url=url, env="test", queue_immediate=True, log_json=False)
    with TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False) as down:
        yield down


def _is_down_json(r: Response) -> bool:
    return r.status_code == 503 and r.json()["message"] == DOWN_MESSAGE and r.headers.get("retry-after") == "5"


def test_database_down_answers_503_never_500(down_client: TestClient) -> None:
    health = down_client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    # Strangers learn that it is down, not where the database lives.
    assert "127.0.0.1" not in health.text and "not-a-file" not in health.text

    token = {"Authorization": "Bearer as_somethingthatlookslikeatoken"}
    for method, url in (
        ("GET", "/api/v1/orders"),
        ("GET", "/api/v1/orders/SO-1"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/orders"),
    ):
        r = down_client.request(method, url, headers=token, json=Factory.order_payload() if method == "POST" else None)
        assert _is_down_json(r), (method, url, r.status_code, r.text[:200])
    # Anonymous callers are still told to sign in: that needs no database.
    assert down_client.get("/api/v1/orders").status_code == 401

    # People get a page: the login form still renders, and signing in says the database is down.
    form = down_client.get("/login")
    assert form.status_code == 200
    data = {"username": "root", "password": "password-123", "csrf_token": csrf_from(form.text), "next": "/"}
    r = down_client.post("/login", data=data, follow_redirects=False)
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert "数据库" in r.text or DOWN_MESSAGE in r.text


def test_database_down_signed_in_pages_answer_503(
    down_client: TestClient, client: TestClient, factory: Factory
) -> None:
    # A session made while the database was up (same secret key) meets a 503 page, not a crash.
    factory.user("root", Role.ADMIN)
    sign_in(client, "root")
    down_client.cookies.update(client.cookies)
    page = down_client.get("/orders", follow_redirects=False)
    assert page.status_code == 503 and "<html" in page.text
    api = down_client.get("/api/v1/me")
    assert _is_down_json(api)
    assert client.get("/api/v1/me", headers=bearer(factory, "root")).status_code == 200


def test_the_browsers_favicon_request_finds_the_icon(client: TestClient) -> None:
    answer = client.get("/favicon.ico", follow_redirects=False)
    assert answer.status_code == 301 and answer.headers["location"] == "/static/favicon.svg"
    assert client.get("/favicon.ico").status_code == 200
