"""The public help center (no sign-in) and the administrators' article editor, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.knowledge import api as knowledge_api
from aftersales.knowledge import service
from aftersales.knowledge import web as knowledge_web
from aftersales.main import create_app

from ..factories import Factory, csrf_from
from ._support import sign_in

try:  # FastAPI >= 0.16x keeps included routers nested; this walks them with their full paths.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens include_router into app.routes

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[no-redef]
        return iter(routes)


# What the help center adds to tests/http/test_authorization.py's PUBLIC_ROUTES.
PUBLIC_HELP_ROUTES = {
    ("GET", "/help"),
    ("GET", "/help/search"),
    ("GET", "/help/{slug}"),
    ("POST", "/help/{slug}/helpful"),
}


def routes(app: FastAPI) -> set[tuple[str, str]]:
    return {(m, r.path) for r in iter_route_contexts(app.routes) for m in getattr(r, "methods", None) or ()}


def knowledge_app(settings: Settings) -> FastAPI:
    """The app with the knowledge routers, whether or not main.py mounts them yet."""
    app = create_app(settings)
    paths = {path for _, path in routes(app)}
    if "/api/v1/knowledge/search" not in paths:
        app.include_router(knowledge_api.router, prefix="/api/v1")
    if "/help" not in paths:
        app.include_router(knowledge_web.router)
    return app


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    service.load_articles(db)
    return knowledge_app(settings)


@pytest.fixture
def staff(factory: Factory) -> None:
    factory.user("root", Role.ADMIN, display_name="Root Admin")
    factory.user("agent", Role.AGENT_T1)


def form_of(html: str) -> dict[str, str]:
    """The editor's fields as the browser would post them, without the CSRF token."""
    fields = re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html)
    data = {name: value for name, value in fields if name not in ("csrf_token", "next")}
    for name in ("body_zh", "body_en"):
        match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
        assert match, name
        data[name] = (
            match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace("&#39;", "'")
        )
        data[name] = data[name].replace("&amp;", "&")
    data["category"] = re.findall(r'<option value="(\w+)" selected>', html)[0]
    if 'name="published" value="on" role="switch" checked' in html:
        data["published"] = "on"
    return data


# --- the public help center ----------------------------------------------------------------------
def test_the_help_center_opens_without_signing_in(client: TestClient) -> None:
    page = client.get("/help")
    assert page.status_code == 200
    assert 'data-testid="help-categories"' in page.text and "帮助中心" in page.text
    assert page.text.count('data-testid="help-category"') == 11
    assert 'href="/help/returns-7-day"' in page.text and "七天无理由退货" in page.text
    english = client.get("/help", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Help center" in english.text and "7-day no-reason returns" in english.text


def test_search_gives_a_page_or_an_htmx_fragment(client: TestClient) -> None:
    page = client.get("/help/search", params={"q": "怎么退货"})
    assert page.status_code == 200 and "<html" in page.text
    slugs = re.findall(r'data-testid="help-hit" data-slug="([^"]+)"', page.text)
    assert slugs[0] == "returns-how-to"
    fragment = client.get("/help/search", params={"q": "price protection"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="help-results"')
    assert re.findall(r'data-slug="([^"]+)"', fragment.text)[0] == "price-protection"
    nothing = client.get("/help/search", params={"q": "天气怎么样"}, headers={"HX-Request": "true"})
    assert 'data-testid="help-no-results"' in nothing.text and "/help/contact-human" in nothing.text
    empty = client.get("/help/search", params={"q": "   "}, headers={"HX-Request": "true"})
    assert "help-hit" not in empty.text and "help-no-results" not in empty.text
    long = client.get("/help/search", params={"q": "退货" * 500})
    assert long.status_code == 200
    hostile = client.get("/help/search", params={"q": "<script>alert(1)</script>{q}"})
    assert "<script>alert(1)" not in hostile.text and "&lt;script&gt;" in hostile.text


def test_an_article_in_the_visitors_language(client: TestClient, db: Database) -> None:
    page = client.get("/help/returns-7-day")
    assert page.status_code == 200
    assert '<h2 data-testid="article-title">七天无理由退货</h2>' in page.text
    assert "<strong>签收的次日</strong>" in page.text  # Markdown rendered
    assert 'href="/help/returns-how-to"' in page.text and 'data-testid="related"' in page.text
    english = client.get("/help/returns-7-day", headers={"Accept-Language": "en"})
    assert "7-day no-reason returns" in english.text and "签收的次日" not in english.text
    assert service.get(db, "returns-7-day").views == 2
    missing = client.get("/help/no-such-article")
    assert missing.status_code == 404 and "No help article" in missing.text


def test_was_this_helpful_needs_csrf_and_counts_once_per_visitor(client: TestClient, db: Database) -> None:
    page = client.get("/help/invoices")
    token = csrf_from(page.text)
    assert client.post("/help/invoices/helpful", data={"answer": "yes"}).status_code == 403
    forged = client.post("/help/invoices/helpful", data={"answer": "yes", "csrf_token": "forged"})
    assert forged.status_code == 403 and service.get(db, "invoices").helpful == 0
    voted = client.post("/help/invoices/helpful", data={"answer": "yes", "csrf_token": token}, follow_redirects=False)
    assert voted.status_code == 303 and voted.headers["location"] == "/help/invoices?feedback=yes#helpful"
    again = client.post(
        "/help/invoices/helpful", data={"answer": "yes"}, headers={"HX-Request": "true", "X-CSRF-Token": token}
    )
    assert again.status_code == 200 and 'data-testid="helpful-thanks"' in again.text and "<html" not in again.text
    assert service.get(db, "invoices").helpful == 1
    assert 'data-testid="helpful-thanks"' in client.get("/help/invoices").text
    no = client.post(
        "/help/payments/helpful", data={"answer": "no"}, headers={"HX-Request": "true", "X-CSRF-Token": token}
    )
    assert 'data-testid="helpful-sorry"' in no.text and "/help/contact-human" in no.text
    assert service.get(db, "payments").helpful == 0
    assert client.post("/help/nope/helpful", data={"csrf_token": token}).status_code == 404


def test_the_public_routes_are_exactly_these(app: FastAPI) -> None:
    mine = {pair for pair in routes(app) if pair[1].startswith("/help")}
    assert mine == PUBLIC_HELP_ROUTES


# --- the editor ----------------------------------------------------------------------------------
@pytest.mark.usefixtures("staff")
def test_only_admins_open_the_editor(client: TestClient) -> None:
    anonymous = client.get("/admin/articles", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    sign_in(client, "agent")
    assert client.get("/admin/articles").status_code == 403
    assert client.get("/admin/articles/invoices").status_code == 403
    sign_in(client, "root")
    listing = client.get("/admin/articles")
    assert listing.status_code == 200 and listing.text.count('data-testid="article-row"') >= 16
    assert client.get("/admin/articles/invoices").status_code == 200
    assert client.get("/admin/articles/nope").status_code == 404


@pytest.mark.usefixtures("staff")
def test_an_admin_edit_is_live_at_once(client: TestClient, db: Database) -> None:
    token = sign_in(client, "root")
    data = form_of(client.get("/admin/articles/delivery-times").text)
    assert data["version"] == "1" and data["title_en"].startswith("Delivery times")
    data |= {"csrf_token": token, "title_zh": "配送时效：上午下单当日达", "tags": data["tags"] + ", 闪电送"}
    saved = client.post("/admin/articles/delivery-times", data=data, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/articles/delivery-times?notice=saved"
    editor = client.get(saved.headers["location"]).text
    assert 'data-testid="article-notice"' in editor and 'name="version" value="2"' in editor
    client.cookies.clear()
    assert "配送时效：上午下单当日达" in client.get("/help/delivery-times").text
    hits = client.get("/help/search", params={"q": "闪电送"}).text
    assert re.findall(r'data-slug="([^"]+)"', hits)[0] == "delivery-times"


@pytest.mark.usefixtures("staff")
def test_a_stale_edit_gets_409_and_a_bad_one_422(client: TestClient, db: Database) -> None:
    token = sign_in(client, "root")
    stale = form_of(client.get("/admin/articles/invoices").text) | {"csrf_token": token}
    first = client.post("/admin/articles/invoices", data=stale | {"title_en": "Invoices v2"}, follow_redirects=False)
    assert first.status_code == 303
    conflict = client.post("/admin/articles/invoices", data=stale | {"title_en": "Invoices lost update"})
    assert conflict.status_code == 409
    assert "you edited version 1, it is now version 2" in conflict.text
    assert 'value="Invoices lost update"' in conflict.text  # the editor keeps what was typed
    assert service.get(db, "invoices").title_en == "Invoices v2"
    fresh = form_of(client.get("/admin/articles/invoices").text) | {"csrf_token": token}
    bad = client.post("/admin/articles/invoices", data=fresh | {"title_zh": "  "})
    assert bad.status_code == 422 and "The Chinese title is empty" in bad.text
    too_many = client.post("/admin/articles/invoices", data=fresh | {"tags": ",".join(f"t{i}" for i in range(40))})
    assert too_many.status_code == 422 and "at most 30 tags" in too_many.text
    assert service.get(db, "invoices").version == 2


@pytest.mark.usefixtures("staff")
def test_editor_posts_need_csrf_and_an_admin(client: TestClient, db: Database) -> None:
    token = sign_in(client, "root")
    data = form_of(client.get("/admin/articles/payments").text) | {"title_en": "Hijacked"}
    assert client.post("/admin/articles/payments", data=data).status_code == 403
    assert client.post("/admin/articles/payments", data=data | {"csrf_token": "forged"}).status_code == 403
    assert client.post("/admin/articles", data=data | {"slug": "new-one"}).status_code == 403
    agent_token = sign_in(client, "agent")
    assert client.post("/admin/articles/payments", data=data | {"csrf_token": agent_token}).status_code == 403
    assert client.post("/admin/articles", data=data | {"slug": "x", "csrf_token": agent_token}).status_code == 403
    client.cookies.clear()
    anonymous = client.post("/admin/articles/payments", data=data | {"csrf_token": token}, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert service.get(db, "payments").title_en == "Payment methods and payment problems"
    assert all(a.slug not in ("new-one", "x") for a in service.list_all(db))


@pytest.mark.usefixtures("staff")
def test_admins_create_articles_and_raw_html_stays_text(client: TestClient, db: Database) -> None:
    token = sign_in(client, "root")
    data = {
        "csrf_token": token,
        "slug": "gift-cards",
        "category": "payments",
        "title_zh": "礼品卡",
        "title_en": "Gift cards",
        "body_zh": "礼品卡**不能**兑换现金。<script>alert(1)</script>",
        "body_en": "Gift cards cannot be exchanged for cash. [bad](javascript:alert(1))",
        "tags": "礼品卡, gift card",
        "published": "on",
    }
    created = client.post("/admin/articles", data=data, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/admin/articles/gift-cards?notice=created"
    page = client.get("/help/gift-cards").text
    assert "<strong>不能</strong>" in page and "<script>alert(1)" not in page and "&lt;script&gt;" in page
    english = client.get("/help/gift-cards", headers={"Accept-Language": "en"}).text
    assert 'href="javascript:' not in english
    duplicate = client.post("/admin/articles", data=data)
    assert (
        duplicate.status_code == 409 and "already exists" in duplicate.text and 'value="gift-cards"' in duplicate.text
    )
    reserved = client.post("/admin/articles", data=data | {"slug": "search"})
    assert reserved.status_code == 422 and "reserved" in reserved.text
    unpublished = {k: v for k, v in data.items() if k != "published"} | {"slug": "draft"}
    assert client.post("/admin/articles", data=unpublished, follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert client.get("/help/draft").status_code == 404
    assert service.get(db, "draft", include_unpublished=True).published is False
