"""HEAD answers wherever GET does, with GET's status and headers and no body; a path that has
no GET still says which methods it has."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/login", "/help", "/healthz", "/static/css/app.css", "/orders", "/no-such-page"])
def test_head_is_answered_like_get_without_a_body(client: TestClient, path: str) -> None:
    got = client.get(path, follow_redirects=False)
    head = client.head(path, follow_redirects=False)
    assert head.status_code == got.status_code != 405
    assert head.content == b""
    assert head.headers.get("content-type") == got.headers.get("content-type")
    assert head.headers.get("content-security-policy") == got.headers.get("content-security-policy")


def test_a_path_without_get_refuses_head_too(client: TestClient) -> None:
    assert client.head("/language").status_code == 405
