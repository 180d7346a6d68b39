"""GET /api/v1/knowledge/search: help-article links for agents' replies and for integrations."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.knowledge import service

from ..factories import Factory
from ._support import bearer, sign_in
from .test_knowledge_pages import knowledge_app


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    service.load_articles(db)
    return knowledge_app(settings)


@pytest.fixture
def people(factory: Factory) -> dict[str, dict[str, str]]:
    factory.catalogue()
    factory.put_order()
    factory.customer_user("li-na", "C1")
    factory.user("agent", Role.AGENT_T1)
    return {"customer": bearer(factory, "li-na"), "agent": bearer(factory, "agent")}


def test_strangers_get_401(client: TestClient) -> None:
    r = client.get("/api/v1/knowledge/search", params={"q": "退货"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "Sign in" in r.json()["message"]


def test_agents_and_customers_get_links_in_their_language(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    r = client.get("/api/v1/knowledge/search", params={"q": "退款多久到账", "lang": "zh-CN"}, headers=people["agent"])
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "退款多久到账" and body["lang"] == "zh-CN"
    first = body["hits"][0]
    assert first["slug"] == "refunds-timing" and first["url"] == "/help/refunds-timing"
    assert first["title"].startswith("退款多久到账") and first["snippet"] and first["score"] > 0
    assert set(first) == {"slug", "title", "snippet", "score", "coverage", "category", "url"}
    english = client.get(
        "/api/v1/knowledge/search", params={"q": "退款多久到账", "lang": "en", "limit": 2}, headers=people["customer"]
    ).json()
    assert english["lang"] == "en" and len(english["hits"]) == 2
    assert english["hits"][0]["title"] == "Refund methods and how long they take"
    by_header = client.get(
        "/api/v1/knowledge/search", params={"q": "invoice"}, headers={**people["customer"], "Accept-Language": "en"}
    ).json()
    assert by_header["lang"] == "en" and by_header["hits"][0]["url"] == "/help/invoices"


def test_bad_queries_get_a_422_and_small_talk_no_hits(client: TestClient, people: dict[str, dict[str, str]]) -> None:
    agent = people["agent"]
    missing = client.get("/api/v1/knowledge/search", headers=agent)
    assert missing.status_code == 422 and "q" in missing.json()["message"]
    assert client.get("/api/v1/knowledge/search", params={"q": "x", "limit": 0}, headers=agent).status_code == 422
    assert client.get("/api/v1/knowledge/search", params={"q": "x", "limit": 51}, headers=agent).status_code == 422
    assert client.get("/api/v1/knowledge/search", params={"q": "你好"}, headers=agent).json()["hits"] == []


def test_a_signed_in_page_session_may_search_too(client: TestClient, people: dict[str, dict[str, str]]) -> None:
    sign_in(client, "li-na")
    r = client.get("/api/v1/knowledge/search", params={"q": "怎么退货"})
    assert r.status_code == 200 and r.json()["hits"][0]["slug"] == "returns-how-to"
