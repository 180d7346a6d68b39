"""Request bodies are bounded: past the limit the answer is 413, whether the client declares the
size, lies about it or streams without one; forms with photos have their own, larger limit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.main import create_app

from ..factories import Factory
from ._support import bearer, csrf_token, sign_in
from .test_cases_photos import PNG, case_number, submit
from .test_cases_photos import shop as shop
from .test_cases_photos import uploads as uploads

MB = 1024 * 1024


@pytest.fixture
def app(settings: Settings, db: Database, uploads: Path) -> FastAPI:
    return create_app(settings.model_copy(update={"upload_dir": str(uploads)}))


def big_order_json() -> bytes:
    """A syntactically valid order whose description alone passes 1 MB."""
    return b'{"number": "SO-BIG", "note": "' + b"x" * (MB + 10) + b'"}'


def count(db: Database, table: str) -> int:
    with db.read() as uow:
        return int(uow.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_json_body_past_1_mb_is_refused_with_413_before_anything_else(
    client: TestClient, factory: Factory, db: Database
) -> None:
    factory.user("feed", Role.INTEGRATION)
    feed = bearer(factory, "feed")
    answer = client.post(
        "/api/v1/orders", content=big_order_json(), headers={**feed, "Content-Type": "application/json"}
    )
    assert answer.status_code == 413, answer.text
    body = answer.json()
    assert body["error"] == "too_large"
    assert body["message"] == body["detail"]
    assert "at most 1 MB" in body["message"]
    assert count(db, "orders") == 0


def test_without_a_token_a_huge_body_still_gets_413_not_a_read_of_it(client: TestClient) -> None:
    answer = client.post("/api/v1/orders", content=b"{" + b" " * (2 * MB) + b"}")
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"


def test_a_body_streamed_without_content_length_is_counted(client: TestClient, factory: Factory) -> None:
    factory.user("feed", Role.INTEGRATION)
    feed = bearer(factory, "feed")

    def chunks() -> Iterator[bytes]:
        yield b'{"number": "SO-BIG", "note": "'
        for _ in range(40):
            yield b"x" * 32 * 1024
        yield b'"}'

    answer = client.post("/api/v1/orders", content=chunks(), headers={**feed, "Content-Type": "application/json"})
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "too_large"


def test_a_body_longer_than_its_declared_length_is_counted(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/orders",
        content=big_order_json(),
        headers={"Content-Type": "application/json", "Content-Length": "100"},
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "too_large"


def test_a_page_form_past_the_limit_gets_a_page_in_the_readers_language(client: TestClient) -> None:
    token = csrf_token(client)
    form = {"csrf_token": token, "username": "x" * (2 * MB), "password": "p"}
    zh = client.post("/login", data=form)
    assert zh.status_code == 413
    assert zh.headers["content-type"].startswith("text/html")
    assert "请求过大" in zh.text and "1 MB" in zh.text
    en = client.post("/login", data=form, headers={"Accept-Language": "en"})
    assert en.status_code == 413
    assert "This request is too large: at most 1 MB can be sent here." in en.text


def test_the_reading_stops_at_the_limit(app: FastAPI) -> None:
    """Straight at the ASGI app: a client that would send 100 MB in 64 KB pieces is cut off after
    the first piece past 1 MB, and answered 413."""
    pieces_read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pieces_read
        pieces_read += 1
        return {"type": "http.request", "body": b"x" * 64 * 1024, "more_body": pieces_read < 1600}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/orders",
        "raw_path": b"/api/v1/orders",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    asyncio.run(run())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert pieces_read == 17  # 16 pieces are exactly 1 MB; the 17th passes it


# --- forms with photos ----------------------------------------------------------------------------
def test_a_photo_larger_than_the_form_limit_is_accepted_on_an_upload_form(
    client: TestClient,
    shop: Factory,
    uploads: Path,
) -> None:
    token = sign_in(client, "lina")
    photo = PNG + b"\0" * (2 * MB)
    number = case_number(submit(client, token, [("photos", ("big.png", photo, "image/png"))]))
    [stored] = list((uploads / number).iterdir())
    assert stored.stat().st_size == len(photo)


def test_an_upload_past_its_own_limit_gets_413_and_nothing_is_stored(
    settings: Settings,
    db: Database,
    shop: Factory,
    uploads: Path,
) -> None:
    small = create_app(settings.model_copy(update={"upload_dir": str(uploads), "max_upload_bytes": 3 * MB}))
    with TestClient(small, base_url="http://127.0.0.1") as client:
        token = sign_in(client, "lina")
        photos = [("photos", (f"p{i}.png", PNG + b"\0" * MB, "image/png")) for i in range(4)]
        answer = submit(client, token, photos)
        assert answer.status_code == 413
        assert "照片和表单合计过大" in answer.text and "3 MB" in answer.text
    assert count(db, "cases") == 0
    assert not uploads.exists() or not any(uploads.iterdir())
