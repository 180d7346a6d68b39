"""An Idempotency-Key stands for one request: the same key with the same request answers with the
first result; the same key with a different request is refused, so nothing the caller meant is
silently dropped."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from .test_cases_api import draft, numbers, submit
from .test_cases_api import people as people
from .test_cases_api import shop as shop


def test_the_same_key_with_another_body_is_422_and_creates_nothing(client: TestClient, people: dict[str, Any]) -> None:
    first = submit(client, people["lina"], draft("SO-A"), key="app-req-1")
    changed = draft("SO-A", reason="wrong_item")
    answer = client.post("/api/v1/cases", json=changed, headers={**people["lina"], "Idempotency-Key": "app-req-1"})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "invalid"
    assert "Idempotency-Key 'app-req-1'" in body["message"] and first["number"] in body["message"]
    assert numbers(client, people["lina"]) == {first["number"]}
    # The identical request still answers with the first result.
    assert submit(client, people["lina"], draft("SO-A"), key="app-req-1")["number"] == first["number"]


def test_the_same_content_written_differently_is_the_same_request(client: TestClient, people: dict[str, Any]) -> None:
    body = draft("SO-A")
    first = submit(client, people["lina"], body, key="app-req-9")
    reordered = dict(reversed(list(body.items())))
    assert submit(client, people["lina"], reordered, key="app-req-9")["number"] == first["number"]


def test_keys_belong_to_their_caller(client: TestClient, people: dict[str, Any]) -> None:
    lina = submit(client, people["lina"], draft("SO-A"), key="k-1")
    bob = submit(client, people["bob"], draft("SO-B"), key="k-1")  # another caller, another request
    assert lina["number"] != bob["number"]
