"""The pages people use: sign-in and its guards, languages, the customer's and the agent's order
pages, the administrators' pages, and friendly errors."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx import Response

from aftersales.identity import service as identity_service
from aftersales.kit.access import Role

from ..factories import PASSWORD, Factory, csrf_from
from ._support import bearer, csrf_token, event, shipment, sign_in


def _post_login(client: TestClient, username: str, password: str, next_url: str = "/") -> Response:
    token = csrf_from(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token, "next": next_url}
    return client.post("/login", data=data, follow_redirects=False)


def test_login_page_speaks_chinese_by_default_and_english_on_request(client: TestClient) -> None:
    zh = client.get("/login")
    assert zh.status_code == 200
    assert '<html lang="zh-CN"' in zh.text and "登录" in zh.text
    en = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en"' in en.text and "Sign in" in en.text and "登录" not in en.text
    other = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="zh-CN"' in other.text


def test_wrong_password_then_throttle(client: TestClient, factory: Factory) -> None:
    factory.user("agent", Role.AGENT_T1)
    for _ in range(5):
        r = _post_login(client, "agent", "wrong-password")
        assert r.status_code == 401
        assert "用户名或密码错误。" in r.text
        assert 'value="agent"' in r.text
    sixth = _post_login(client, "agent", "wrong-password")
    assert sixth.status_code == 429
    assert "登录失败次数过多" in sixth.text
    # Even the right password waits out the window now.
    assert _post_login(client, "Agent", PASSWORD).status_code == 429
    assert client.get("/api/v1/me").status_code == 401


def test_throttle_holds_against_parallel_guesses(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_service, "_hasher", PasswordHasher())  # real cost: a real race window
    factory.user("agent", Role.AGENT_T1)
    token = csrf_from(client.get("/login").text)
    form = {"username": "agent", "password": "wrong-password", "csrf_token": token}
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: client.post("/login", data=form).status_code, range(16)))
    assert codes.count(401) <= 5 and codes.count(429) >= 11, sorted(codes)


def test_successful_login_redirects_and_renews_the_session(client: TestClient, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    anonymous_csrf = csrf_token(client)
    r = _post_login(client, "root", PASSWORD, "/admin/audit?subject=order")
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/audit?subject=order"
    assert client.get("/api/v1/me").json()["role"] == "admin"
    assert csrf_token(client) != anonymous_csrf  # a fresh session, not the planted one
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/admin/users"
    # Signed in, the login page sends people on instead of showing the form.
    again = client.get("/login", params={"next": "/orders"}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/orders"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example", "//evil.example", "/\\evil.example", "https:evil.example", "javascript:alert(1)", "x/y"],
)
def test_login_never_redirects_off_site(client: TestClient, factory: Factory, target: str) -> None:
    factory.user("root", Role.ADMIN)
    page = client.get("/login", params={"next": target})
    hidden = re.findall(r'name="next" value="([^"]*)"', page.text.split('action="/login"', 1)[1])[0]
    assert hidden.startswith("/") and not hidden.startswith("//")
    r = _post_login(client, "root", PASSWORD, target)
    location = r.headers["location"]
    parts = urlsplit(location)
    assert r.status_code == 303
    assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
    # A backslash would turn into "//evil.example" in browsers, so such a target is refused too.
    assert location == "/" and hidden == "/"
    signed_in = client.get("/login", params={"next": target}, follow_redirects=False)
    assert urlsplit(signed_in.headers["location"]).netloc == ""


def test_logout_clears_the_session_but_keeps_the_language(client: TestClient, factory: Factory) -> None:
    factory.user("agent", Role.AGENT_T1)
    token = sign_in(client, "agent")
    client.post("/language", data={"lang": "en", "next": "/orders", "csrf_token": token})
    token = csrf_token(client)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401
    gone = client.get("/orders", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert '<html lang="en"' in client.get("/login").text
    assert csrf_token(client) != token


def test_language_switch(client: TestClient) -> None:
    token = csrf_token(client)
    r = client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert '<html lang="en"' in client.get("/login").text
    # The session's choice beats the browser's header.
    assert '<html lang="en"' in client.get("/login", headers={"Accept-Language": "zh-CN"}).text
    evil = client.post(
        "/language", data={"lang": "zh-CN", "next": "https://evil.example", "csrf_token": token}, follow_redirects=False
    )
    assert evil.headers["location"] == "/"
    assert "登录" in client.get("/login").text
    # Unknown languages fall back to the default instead of failing.
    client.post("/language", data={"lang": "klingon", "csrf_token": token})
    assert '<html lang="zh-CN"' in client.get("/login").text


def test_language_switch_is_remembered_for_the_account(client: TestClient, factory: Factory) -> None:
    factory.user("agent", Role.AGENT_T1)
    token = sign_in(client, "agent")
    client.post("/language", data={"lang": "en", "next": "/orders", "csrf_token": token})
    assert "Orders" in client.get("/orders").text
    me = next(u for u in client.get("/api/v1/users", headers=_admin(factory)).json() if u["username"] == "agent")
    assert me["locale"] == "en"


def _admin(factory: Factory) -> dict[str, str]:
    factory.user("boss", Role.ADMIN)
    return bearer(factory, "boss")


@pytest.fixture
def shop(client: TestClient, factory: Factory) -> None:
    """Two orders of 王芳 (one with carrier scans), one of 张伟."""
    factory.catalogue()
    ships = [shipment("SF100")]
    factory.put_order(number="SO-100", customer="C1", customer_name="王芳", phone="13900000001", shipments=ships)
    factory.put_order(number="SO-101", customer="C1", customer_name="王芳", phone="13900000001", merchant="pop-a")
    factory.put_order(number="SO-200", customer="C2", customer_name="张伟", phone="13700000002", merchant="pop-b")
    factory.user("feed", Role.INTEGRATION)
    feed = bearer(factory, "feed")
    for n, node, at, place in (
        (1, "picked_up", "2026-11-01T12:00:00+08:00", "上海"),
        (2, "arrived_station", "2026-11-02T08:00:00+08:00", "杭州西湖站"),
    ):
        r = client.post("/api/v1/logistics-events", json=event(f"e{n}", "SF100", node, at, place), headers=feed)
        assert r.status_code == 200, r.text
    factory.customer_user("wangfang", "C1")
    factory.user("agent", Role.AGENT_T1)


@pytest.mark.usefixtures("shop")
def test_customer_sees_own_orders_and_the_parcels_journey(client: TestClient) -> None:
    sign_in(client, "wangfang")
    mine = client.get("/orders")
    assert mine.status_code == 200 and "我的订单" in mine.text
    cards = re.findall(r'href="/orders/([^"]+)" data-testid="order-card"', mine.text)
    assert sorted(cards) == ["SO-100", "SO-101"]

    detail = client.get("/orders/SO-100")
    assert detail.status_code == 200
    nodes = re.findall(r'data-testid="logistics-node">\s*<strong>([^<]+)</strong>', detail.text)
    assert nodes == ["到达派送站", "已揽收"]  # newest first
    assert "杭州西湖站" in detail.text and "SF100" in detail.text
    timeline = detail.text.split('data-testid="timeline"', 1)[1]
    assert "订单已接收" in timeline
    assert "13700000002" not in detail.text and "张伟" not in detail.text
    assert client.get("/orders/SO-200").status_code == 404


@pytest.mark.usefixtures("shop")
def test_agent_finds_orders_by_phone(client: TestClient) -> None:
    sign_in(client, "agent")
    page = client.get("/orders", params={"q": "13900000001"})
    assert page.status_code == 200
    rows = re.findall(r'<a href="/orders/([^"]+)">', page.text)
    assert sorted(rows) == ["SO-100", "SO-101"]
    assert "共 2 个订单" in page.text
    by_name = client.get("/orders", params={"q": "张伟"})
    assert re.findall(r'<a href="/orders/([^"]+)">', by_name.text) == ["SO-200"]
    assert 'data-testid="order-row"' not in client.get("/orders", params={"q": "13900000009"}).text


@pytest.mark.usefixtures("shop")
def test_agent_live_search_fragment(client: TestClient) -> None:
    sign_in(client, "agent")
    fragment = client.get("/orders", params={"q": "张伟"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert re.findall(r'<a href="/orders/([^"]+)">', fragment.text) == ["SO-200"]


def test_admin_lists_users_and_changes_a_role(client: TestClient, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    agent = factory.user("agent", Role.AGENT_T1)
    factory.user("lead", Role.SUPERVISOR)
    token = sign_in(client, "root")
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert page.text.count('data-testid="user-row"') == 3
    assert "agent" in page.text and "lead" in page.text
    only_leads = client.get("/admin/users", params={"role": "supervisor"})
    assert only_leads.text.count('data-testid="user-row"') == 1

    r = client.post(
        f"/admin/users/{agent.id}/role", data={"csrf_token": token, "role": "agent_t2"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?notice=role:agent"
    assert "已保存。" in client.get(r.headers["location"]).text
    users = {u["username"]: u for u in client.get("/api/v1/users").json()}
    assert users["agent"]["role"] == "agent_t2"

    # Binding rules and self-protection come back as pages, not crashes.
    bad = client.post(f"/admin/users/{agent.id}/role", data={"csrf_token": token, "role": "merchant"})
    assert bad.status_code == 422 and "merchant" in bad.text
    me = users["root"]["id"]
    assert client.post(f"/admin/users/{me}/role", data={"csrf_token": token, "role": "agent_t1"}).status_code == 409
    r = client.post(f"/admin/users/{agent.id}/active", data={"csrf_token": token, "active": "false"})
    assert r.status_code == 200
    assert {u["username"]: u for u in client.get("/api/v1/users").json()}["agent"]["active"] is False
    client.cookies.clear()
    disabled = _post_login(client, "agent", PASSWORD)
    assert disabled.status_code == 401


def test_admin_binds_a_user_to_a_merchant(client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.user("root", Role.ADMIN)
    clerk = factory.user("clerk", Role.AGENT_T1)
    token = sign_in(client, "root")
    page = client.get("/admin/users")
    assert page.status_code == 200
    options = {name: value for value, name in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page.text)}
    assert {"Merchant selfop", "Merchant pop-a", "Merchant pop-b"} <= set(options)
    form = {"csrf_token": token, "role": "warehouse", "merchant_id": options["Merchant pop-b"]}
    assert client.post(f"/admin/users/{clerk.id}/role", data=form).status_code == 200
    clerk_now = next(u for u in client.get("/api/v1/users").json() if u["username"] == "clerk")
    assert clerk_now["role"] == "warehouse" and clerk_now["merchant_id"] == int(options["Merchant pop-b"])


@pytest.mark.usefixtures("shop")
def test_audit_log_shows_entries(client: TestClient, factory: Factory) -> None:
    factory.user("lead", Role.SUPERVISOR)
    sign_in(client, "lead")
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert page.text.count('data-testid="audit-row"') >= 5  # 3 orders created, 1 shipped, 1 shipment moved
    assert "订单已接收" in page.text
    shipments = client.get("/admin/audit", params={"subject": "shipment"}).text
    assert 0 < shipments.count('data-testid="audit-row"') < page.text.count('data-testid="audit-row"')


def test_htmx_requests_are_sent_to_the_login_page_too(client: TestClient) -> None:
    r = client.get("/orders", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/login?next=/orders"


def test_unknown_pages_are_friendly(client: TestClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html") and "/no-such-page" in missing.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and "/api/v1/no-such-thing" in api.json()["message"]
    assert client.delete("/api/v1/orders").status_code == 405


def test_malformed_page_requests_are_friendly(client: TestClient, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    token = sign_in(client, "root")
    for url in ("/no-such-page", "/orders/NOPE", "/orders/" + "9" * 300, "/orders/%E4%B8%AD"):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert "<html" in r.text
    # PostgreSQL refuses NUL bytes in text where SQLite finds nothing: either way a page, not a crash.
    nul = client.get("/orders/SO%00X")
    assert nul.status_code in (404, 422) and "<html" in nul.text
    for url in ("/orders?page=0", "/orders?q=" + "x" * 81, "/admin/audit?subject=" + "x" * 40):
        assert client.get(url).status_code == 422, url
    # The status filter's "all" sends an empty value, and an unknown one filters nothing.
    for url in ("/orders?status=", "/orders?status=lost"):
        assert client.get(url).status_code == 200, url
    r = client.post("/admin/users/abc/role", data={"csrf_token": token, "role": "admin"})
    assert r.status_code == 422
    r = client.post("/admin/users/999999/role", data={"csrf_token": token, "role": "admin"})
    assert r.status_code == 404
    r = client.post("/admin/users/1/role", data={"csrf_token": token, "role": "emperor"})
    assert r.status_code == 422
