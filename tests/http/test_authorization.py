"""Who may call what: every route of the app is either public by design or refuses strangers,
reads are scoped to the caller, roles gate writes and admin pages, and cookie writes need CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.kit.access import LOGISTICS_WRITERS, ORDER_WRITERS, Role

from ..factories import Factory
from ._support import SAFE_METHODS, bearer, csrf_token, event, shipment, sign_in, user_per_role

try:  # FastAPI >= 0.16x keeps included routers nested; this walks them with their full paths.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens include_router into app.routes

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[no-redef]
        return iter(routes)


# Public by design. Anything else that answers a stranger is a hole, so a new public route must
# be added here on purpose.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/openapi.json"),
        ("HEAD", "/openapi.json"),
        ("GET", "/docs"),
        ("HEAD", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("HEAD", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
        ("HEAD", "/redoc"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        # Browsers ask for it on every page: a redirect to the public static icon.
        ("GET", "/favicon.ico"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/language"),
        # The nav's unread badge: an empty fragment for anyone but a signed-in customer.
        ("GET", "/inbox/badge"),
        # The help center: customers read it before they sign in.
        ("GET", "/help"),
        ("GET", "/help/search"),
        # The service desk's hours, read from its calendar: public like the article that links to it.
        ("GET", "/service-hours"),
        ("GET", "/help/{slug}"),
        ("POST", "/help/{slug}/helpful"),
        # The one-click unsubscribe link in emails: the signed token is the credential (a forged
        # one is a 403), and it can only turn messages off.
        ("GET", "/outreach/unsubscribe/{token}"),
        ("POST", "/outreach/unsubscribe/{token}"),
        # Replies to our SMS from Twilio: only a request signed with our auth token is read.
        ("POST", "/api/v1/sms/inbound/twilio"),
        # The satisfaction survey: its signed, expiring, single-survey link is the credential (it
        # comes by email; a forged one gets 404). tests/integration/test_surveys_web.py.
        ("GET", "/surveys/{token}"),
        ("POST", "/surveys/{token}"),
    }
)
PUBLIC_MOUNTS = frozenset({"/static"})
# The public routes the product cannot do without; the API docs above may come and go.
ESSENTIAL_PUBLIC = frozenset(
    {("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/login"), ("POST", "/login"), ("POST", "/language")}
)


def route_table(app: FastAPI) -> tuple[list[tuple[str, str]], set[str]]:
    """(method, path) for every endpoint, and the paths of mounted sub-apps."""
    endpoints: list[tuple[str, str]] = []
    mounts: set[str] = set()
    for route in iter_route_contexts(app.routes):
        methods = getattr(route, "methods", None)
        if not methods:
            mounts.add(route.path)
            continue
        endpoints.extend((method, route.path) for method in methods)
    return sorted(endpoints), mounts


def protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    endpoints, _ = route_table(app)
    return [pair for pair in endpoints if pair not in PUBLIC_ROUTES]


def concrete(path: str) -> str:
    """Fill path parameters with a placeholder that fits both int and str parameters."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_route_table_matches_the_allow_list(app: FastAPI) -> None:
    endpoints, mounts = route_table(app)
    assert mounts == PUBLIC_MOUNTS, "a new mounted app must be reviewed and allow-listed"
    assert set(endpoints) >= ESSENTIAL_PUBLIC
    protected = protected_routes(app)
    # The walk must really see the included routers, or the next test proves nothing.
    for known in [("GET", "/api/v1/orders/{number}"), ("POST", "/admin/users/{user_id}/role"), ("GET", "/")]:
        assert known in protected
    assert len(protected) >= 15


def test_every_protected_route_refuses_strangers(app: FastAPI, client: TestClient, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    admin_token = bearer(factory, "root")
    # A real anonymous session with its CSRF token, so what answers is the sign-in check.
    token = csrf_token(client)
    failures: list[str] = []
    for method, path in protected_routes(app):
        url = concrete(path)
        if path.startswith("/api/"):
            body = None if method in SAFE_METHODS else {}
            for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic cm9vdDpyb290"}):
                r = client.request(method, url, json=body, headers={"X-CSRF-Token": token, **headers})
                message = (
                    r.json().get("message", "")
                    if r.headers.get("content-type", "").startswith("application/json")
                    else ""
                )
                if r.status_code != 401 or len(message) < 10 or r.headers.get("www-authenticate") != "Bearer":
                    failures.append(f"{method} {url} {headers}: {r.status_code} {r.text[:120]}")
            continue
        data = None if method in SAFE_METHODS else {"csrf_token": token, "role": "admin", "active": "false"}
        r = client.request(method, url, data=data, follow_redirects=False)
        if r.status_code != 303 or not r.headers.get("location", "").startswith("/login"):
            failures.append(f"{method} {url}: {r.status_code} {r.headers.get('location')} {r.text[:120]}")
        if method in SAFE_METHODS:
            # Pages are for people: an API token does not open them, even an administrator's.
            r = client.request(method, url, headers=admin_token, follow_redirects=False)
            if r.status_code != 303 or not r.headers.get("location", "").startswith("/login"):
                failures.append(f"{method} {url} with a token: {r.status_code} {r.headers.get('location')}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def two_customers(factory: Factory) -> None:
    factory.catalogue()
    factory.put_order(number="SO-A1", customer="CA", customer_name="Alice", phone="13800000001")
    factory.put_order(number="SO-A2", customer="CA", customer_name="Alice", phone="13800000001", merchant="pop-a")
    factory.put_order(number="SO-B1", customer="CB", customer_name="Bob", phone="13800000002", merchant="pop-b")
    factory.customer_user("alice", "CA")
    factory.customer_user("bob", "CB")
    factory.merchant_user("shop-a", "pop-a")
    factory.merchant_user("shop-b", "pop-b")


def _numbers(client: TestClient, headers: dict[str, str], query: str = "") -> list[str]:
    r = client.get("/api/v1/orders", params={"q": query}, headers=headers)
    assert r.status_code == 200, r.text
    return sorted(item["number"] for item in r.json()["items"])


@pytest.mark.usefixtures("two_customers")
def test_customer_api_sees_only_own_orders(client: TestClient, factory: Factory) -> None:
    alice = bearer(factory, "alice")
    assert client.get("/api/v1/orders/SO-A1", headers=alice).status_code == 200
    other = client.get("/api/v1/orders/SO-B1", headers=alice)
    assert other.status_code == 404
    assert "SO-B1" in other.json()["message"] and "Bob" not in other.text
    assert _numbers(client, alice) == ["SO-A1", "SO-A2"]
    assert _numbers(client, alice, "Bob") == []
    assert _numbers(client, alice, "13800000002") == []
    assert _numbers(client, alice, "SO-B1") == []
    assert client.get("/api/v1/orders", params={"size": 100}, headers=alice).json()["total"] == 2
    assert _numbers(client, bearer(factory, "bob")) == ["SO-B1"]


@pytest.mark.usefixtures("two_customers")
def test_merchant_api_sees_only_own_merchants_orders(client: TestClient, factory: Factory) -> None:
    shop_a, shop_b = bearer(factory, "shop-a"), bearer(factory, "shop-b")
    assert client.get("/api/v1/orders/SO-A2", headers=shop_a).status_code == 200
    assert client.get("/api/v1/orders/SO-B1", headers=shop_a).status_code == 404
    assert client.get("/api/v1/orders/SO-A1", headers=shop_a).status_code == 404  # the self-operated order
    assert client.get("/api/v1/orders/SO-A2", headers=shop_b).status_code == 404
    assert _numbers(client, shop_a) == ["SO-A2"]
    assert _numbers(client, shop_b) == ["SO-B1"]
    assert _numbers(client, shop_a, "SO-B1") == []
    assert _numbers(client, shop_a, "Bob") == []


@pytest.mark.usefixtures("two_customers")
def test_order_pages_are_scoped_like_the_api(client: TestClient) -> None:
    for user, mine, others in (
        ("alice", {"SO-A1", "SO-A2"}, {"SO-B1"}),
        ("shop-a", {"SO-A2"}, {"SO-A1", "SO-B1"}),
        ("shop-b", {"SO-B1"}, {"SO-A1", "SO-A2"}),
    ):
        sign_in(client, user)
        listing = client.get("/orders").text
        assert set(re.findall(r'href="/orders/(SO-[^"]+)"', listing)) == mine, user
        for number in mine:
            assert client.get(f"/orders/{number}").status_code == 200, (user, number)
        for number in others:
            page = client.get(f"/orders/{number}")
            assert page.status_code == 404, (user, number)
            assert "Bob" not in page.text and "Alice" not in page.text


def test_only_admins_read_the_user_list_api(client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.put_order()
    for role, name in user_per_role(factory).items():
        r = client.get("/api/v1/users", headers=bearer(factory, name))
        if role is Role.ADMIN:
            assert r.status_code == 200 and len(r.json()) == len(Role)
        else:
            assert r.status_code == 403, role
            assert role.value in r.json()["message"] and "admin" in r.json()["message"]


def test_only_admins_open_admin_pages(client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.put_order()
    users = user_per_role(factory)
    admin = bearer(factory, users[Role.ADMIN])
    admin_id = next(u["id"] for u in client.get("/api/v1/users", headers=admin).json() if u["role"] == "admin")
    for role, name in users.items():
        token = sign_in(client, name)
        expected = 200 if role is Role.ADMIN else 403
        assert client.get("/api/v1/users").status_code == expected, role  # the same rule with a session
        audit = 200 if role in (Role.ADMIN, Role.SUPERVISOR) else 403
        assert client.get("/admin/audit").status_code == audit, role
        if role is Role.ADMIN:
            continue  # the administrators' own page: see test_pages.py
        assert client.get("/admin/users").status_code == 403, role
        # Forms posted with a valid CSRF token still meet the role check, and change nothing.
        form = {"csrf_token": token, "role": "customer", "active": "false"}
        for action in ("role", "active"):
            r = client.post(f"/admin/users/{admin_id}/{action}", data=form, follow_redirects=False)
            assert r.status_code == 403, (role, action, r.status_code)
    me = next(u for u in client.get("/api/v1/users", headers=admin).json() if u["id"] == admin_id)
    assert me["role"] == "admin" and me["active"] is True


def test_write_endpoints_are_gated_by_role(client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.put_order(number="SO-W", shipments=[shipment("SFW")])
    users = user_per_role(factory)
    writes: list[tuple[str, str, frozenset[Role]]] = [
        ("POST", "/api/v1/orders", ORDER_WRITERS),
        ("POST", "/api/v1/logistics-events", LOGISTICS_WRITERS),
        ("PUT", "/api/v1/merchants/pop-c", ORDER_WRITERS),
        ("PUT", "/api/v1/categories/toys", frozenset({Role.ADMIN})),
        ("POST", "/api/v1/products", ORDER_WRITERS),
    ]
    for role, name in users.items():
        headers = bearer(factory, name)
        tag = role.value.replace("_", "-")
        bodies = {
            "/api/v1/orders": factory.order_payload(f"SO-{tag}"),
            "/api/v1/logistics-events": event(f"ev-{tag}", "SFW", "picked_up", "2026-11-01T12:00:00+08:00"),
            "/api/v1/merchants/pop-c": {"code": "pop-c", "name": "Merchant pop-c", "kind": "pop"},
            "/api/v1/categories/toys": {"code": "toys", "name_zh": "玩具", "name_en": "Toys"},
            "/api/v1/products": {
                "merchant_code": "selfop",
                "category_code": "electronics",
                "name": f"Cable {tag}",
                "skus": [{"code": f"CABLE-{tag}", "price": "9.90"}],
            },
        }
        for method, path, allowed in writes:
            r = client.request(method, path, json=bodies[path], headers=headers)
            if role in allowed:
                assert r.status_code not in (401, 403), (role, path, r.text)
            else:
                assert r.status_code == 403, (role, path, r.status_code, r.text)
                assert role.value in r.json()["message"]
    customer = bearer(factory, users[Role.CUSTOMER])
    assert client.get("/api/v1/orders/SO-customer", headers=customer).status_code == 404
    staff = bearer(factory, users[Role.AGENT_T1])
    assert _numbers(client, staff, "SO-") == ["SO-W", "SO-admin", "SO-integration"]


def test_page_forms_refuse_posts_without_the_csrf_token(app: FastAPI, client: TestClient, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    victim = factory.user("victim", Role.AGENT_T1)
    sign_in(client, "root")
    page_posts = [path for method, path in route_table(app)[0] if method == "POST" and not path.startswith("/api/")]
    assert {"/login", "/logout", "/language", "/admin/users/{user_id}/role"} <= set(page_posts)
    form = {"username": "root", "password": "password-123", "lang": "en", "role": "admin", "active": "false"}
    for path in page_posts:
        url = re.sub(r"\{[^}]+\}", str(victim.id), path)
        for extra in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
            r = client.post(url, data={**form, **extra}, follow_redirects=False)
            assert r.status_code == 403, (path, extra, r.status_code, r.headers.get("location"))
        r = client.post(url, data=form, headers={"X-CSRF-Token": "forged"}, follow_redirects=False)
        assert r.status_code == 403, (path, "forged header")
    # Nothing happened: still signed in, still Chinese, the victim untouched.
    assert client.get("/api/v1/me").json()["username"] == "root"
    assert 'lang="zh-CN"' in client.get("/admin/audit").text
    victim_now = next(u for u in client.get("/api/v1/users").json() if u["id"] == victim.id)
    assert victim_now["role"] == "agent_t1" and victim_now["active"] is True


def test_cookie_api_writes_need_the_csrf_header_and_tokens_do_not(client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.user("root", Role.ADMIN)
    token = bearer(factory, "root")
    csrf = sign_in(client, "root")
    payload = factory.order_payload("SO-CSRF")
    missing = client.post("/api/v1/orders", json=payload)
    assert missing.status_code == 403
    assert "X-CSRF-Token" in missing.json()["message"]
    assert client.post("/api/v1/orders", json=payload, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.get("/api/v1/orders/SO-CSRF").status_code == 404  # nothing was written
    assert client.post("/api/v1/orders", json=payload, headers={"X-CSRF-Token": csrf}).status_code == 201
    client.cookies.clear()
    replay = client.post("/api/v1/orders", json=factory.order_payload("SO-CSRF", version=2), headers=token)
    assert replay.status_code == 200 and replay.json()["result"] == "updated"
    assert client.post("/api/v1/orders", json=factory.order_payload("SO-T"), headers=token).status_code == 201


def test_a_merchant_bound_feed_writes_and_reads_only_its_merchant(client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.put_order(number="SO-B", merchant="pop-b", shipments=[shipment("SFB")])
    factory.merchant_user("feed-a", "pop-a", Role.INTEGRATION)
    feed_a = bearer(factory, "feed-a")
    mine = client.post("/api/v1/orders", json=factory.order_payload("SO-A", merchant="pop-a"), headers=feed_a)
    assert mine.status_code == 201, mine.text
    theirs = client.post("/api/v1/orders", json=factory.order_payload("SO-B2", merchant="pop-b"), headers=feed_a)
    assert theirs.status_code == 403 and "pop-b" in theirs.json()["message"]
    scan = event("ev-b", "SFB", "picked_up", "2026-11-01T12:00:00+08:00")
    assert client.post("/api/v1/logistics-events", json=scan, headers=feed_a).status_code == 404
    merchant = {"code": "pop-a", "name": "Renamed", "kind": "pop"}
    assert client.put("/api/v1/merchants/pop-a", json=merchant, headers=feed_a).status_code == 403
    assert client.get("/api/v1/orders/SO-B", headers=feed_a).status_code == 404
    assert _numbers(client, feed_a) == ["SO-A"]


def test_role_changes_and_deactivation_reach_live_sessions_and_tokens(
    app: FastAPI, client: TestClient, factory: Factory
) -> None:
    factory.user("root", Role.ADMIN)
    deputy = factory.user("deputy", Role.ADMIN)
    deputy_token = bearer(factory, "deputy")
    sign_in(client, "deputy")
    assert client.get("/admin/users").status_code == 200
    with TestClient(app, base_url="http://127.0.0.1") as other:
        csrf = sign_in(other, "root")
        # Demoted by another administrator: the deputy's very next request knows it.
        other.post(f"/admin/users/{deputy.id}/role", data={"csrf_token": csrf, "role": "agent_t2"})
        assert client.get("/admin/users").status_code == 403
        assert client.get("/api/v1/me").json()["role"] == "agent_t2"
        # Disabled: the live session and the tokens stop working at once.
        other.post(f"/admin/users/{deputy.id}/active", data={"csrf_token": csrf, "active": "false"})
    assert client.get("/api/v1/me").status_code == 401
    page = client.get("/orders", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client.get("/api/v1/me", headers=deputy_token).status_code == 401


def test_a_bearer_call_without_a_session_gets_no_cookie(client: TestClient, factory: Factory) -> None:
    # A token call carries no ambient credential: it needs no CSRF token, and signing a session
    # cookie it will never send back cost every API call (docs/benchmarks.md).
    factory.catalogue()
    factory.user("root", Role.ADMIN)
    token = bearer(factory, "root")
    client.cookies.clear()
    written = client.post("/api/v1/orders", json=factory.order_payload("SO-NOCOOKIE"), headers=token)
    assert written.status_code == 201
    assert "set-cookie" not in written.headers
    assert "set-cookie" not in client.get("/api/v1/orders/SO-NOCOOKIE", headers=token).headers
    # A browser still gets its session and CSRF token on its first page.
    client.cookies.clear()
    assert "aftersales_session" in client.get("/login").headers.get("set-cookie", "")
