"""Routing pages over HTTP: the supervisor board and its reassign form, the agent's status
switch, the administrators' routing settings; who may open them; both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.routing import service as routing
from aftersales.routing import web as routing_web
from aftersales.routing.domain import AgentStatus, RoutableWork

from ..factories import Factory
from ._support import bearer, csrf_token, sign_in

ROUTES = [
    ("GET", "/supervisor"),
    ("POST", "/supervisor/reassign"),
    ("GET", "/routing/status"),
    ("POST", "/routing/status"),
    ("GET", "/admin/routing"),
    ("POST", "/admin/routing/sync"),
    ("POST", "/admin/routing/agents/1"),
]
HX = {"HX-Request": "true"}


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The app with the routing router, until the lead includes it in create_app."""
    if not any(getattr(r, "path", "") == "/supervisor" for r in app.routes):
        app.include_router(routing_web.router)
    return app


@pytest.fixture
def staff(db: Database, factory: Factory) -> dict[str, int]:
    factory.catalogue()
    ids = {
        "agent-one": factory.user("agent-one", Role.AGENT_T1, display_name="张敏").id,
        "agent-two": factory.user("agent-two", Role.AGENT_T1, display_name="王芳").id,
        "boss": factory.user("boss", Role.SUPERVISOR).id,
        "root": factory.user("root", Role.ADMIN).id,
        "shop": factory.merchant_user("shop", "pop-a").id,
    }
    routing.ensure_defaults(db)
    return ids


def enqueue(db: Database, ref: str) -> routing.Assignment | None:
    with db.write() as uow:
        result = routing.enqueue(uow.session, RoutableWork("ticket", ref))
        uow.commit()
        return result


def go_online(db: Database, user_id: int) -> None:
    with db.write() as uow:
        routing.set_status(uow.session, user_id, AgentStatus.ONLINE)
        uow.commit()


def test_every_routing_route_refuses_strangers_and_tokens(client: TestClient, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    token = csrf_token(client)
    for method, path in ROUTES:
        data = None if method == "GET" else {"csrf_token": token, "status": "online"}
        r = client.request(method, path, data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path, r.status_code)
        if method == "GET":
            r = client.get(path, headers=bearer(factory, "root"), follow_redirects=False)
            assert r.status_code == 303, (path, "token")


def test_roles_gate_the_pages(client: TestClient, staff: dict[str, int]) -> None:
    expected = {
        "agent-one": {"/supervisor": 403, "/admin/routing": 403, "/routing/status": 200},
        "shop": {"/supervisor": 403, "/admin/routing": 403, "/routing/status": 200},
        "boss": {"/supervisor": 200, "/admin/routing": 403, "/routing/status": 200},
        "root": {"/supervisor": 200, "/admin/routing": 200, "/routing/status": 403},
    }
    for user, pages in expected.items():
        token = sign_in(client, user)
        for path, status in pages.items():
            assert client.get(path).status_code == status, (user, path)
        if user != "root":
            r = client.post("/admin/routing/sync", data={"csrf_token": token}, follow_redirects=False)
            assert r.status_code == 403


def test_the_status_switch_fragment(client: TestClient, db: Database, staff: dict[str, int]) -> None:
    enqueue(db, "T-1")
    token = sign_in(client, "agent-one")
    page = client.get("/routing/status")
    assert 'data-status="offline"' in page.text and "<html" not in page.text
    assert client.post("/routing/status", data={"status": "online"}, headers=HX).status_code == 403  # no CSRF
    r = client.post("/routing/status", data={"status": "online", "csrf_token": token}, headers=HX)
    assert r.status_code == 200 and 'data-status="online"' in r.text
    assert re.search(r'data-testid="my-load">[^<]*1/20', r.text)  # the waiting ticket came to them
    bad = client.post("/routing/status", data={"status": "asleep", "csrf_token": token}, headers=HX)
    assert bad.status_code == 200 and "online, away or offline" in bad.text
    plain = client.post(
        "/routing/status",
        data={"status": "away", "csrf_token": token},
        headers={"Referer": "http://127.0.0.1/cases?page=2"},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/cases?page=2"
    assert routing.my_profile(db, staff["agent-one"]).status == "away"
    elsewhere = client.post(
        "/routing/status", data={"status": "online", "csrf_token": token}, headers={"Referer": "https://evil.example//x"},
        follow_redirects=False,
    )  # fmt: skip
    assert elsewhere.headers["location"] == "/"


def test_the_supervisor_board_and_reassign(client: TestClient, db: Database, staff: dict[str, int]) -> None:
    go_online(db, staff["agent-one"])
    enqueue(db, "T-1")
    token = sign_in(client, "boss")
    client.post("/language", data={"lang": "en", "next": "/supervisor", "csrf_token": token})
    page = client.get("/supervisor")
    assert page.status_code == 200 and "Service desk supervision" in page.text
    assert 'data-ref="T-1"' in page.text and 'data-user="agent-one"' in page.text
    fragment = client.get("/supervisor", headers=HX)
    assert 'id="supervisor-board"' in fragment.text and "<html" not in fragment.text
    form = {"csrf_token": token, "kind": "ticket", "ref": "T-1", "to_user_id": str(staff["agent-two"])}
    refused = client.post("/supervisor/reassign", data=form, headers=HX)
    assert refused.status_code == 200 and "offline; only online agents can take work" in refused.text
    go_online(db, staff["agent-two"])
    done = client.post("/supervisor/reassign", data=form, headers=HX)
    assert done.status_code == 200 and 'data-testid="routing-notice"' in done.text
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-1")
    assert work is not None and work.assigned_to == staff["agent-two"]
    assert [t.move for t in work.transfers] == ["reassign"]
    plain = client.post("/supervisor/reassign", data={**form, "to_user_id": "x"}, follow_redirects=False)
    assert plain.status_code == 422 and "Choose the agent" in plain.text
    missing = client.post("/supervisor/reassign", data={**form, "ref": "T-404"}, follow_redirects=False)
    assert missing.status_code == 404 and "T-404" in missing.text
    client.post("/language", data={"lang": "zh-CN", "next": "/supervisor", "csrf_token": token})
    zh = client.get("/supervisor")
    assert "客服现场管理" in zh.text and "已分配" in zh.text


def test_the_admin_edits_an_agent_with_a_version_guard(client: TestClient, db: Database, staff: dict[str, int]) -> None:
    token = sign_in(client, "root")
    page = client.get("/admin/routing")
    assert page.status_code == 200 and 'data-user="agent-one"' in page.text
    me = routing.my_profile(db, staff["agent-one"])
    assert me is not None
    form = {
        "csrf_token": token,
        "tier": "t1",
        "skills": "zh, EN, appliances",
        "groups": ["tier1-general", "cat-appliances"],
        "max_chats": "3",
        "max_tickets": "9",
        "version": str(me.version),
    }
    url = f"/admin/routing/agents/{staff['agent-one']}"
    saved = client.post(url, data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/routing?notice=saved"
    after = routing.my_profile(db, staff["agent-one"])
    assert after is not None and (after.max_chats, after.max_tickets) == (3, 9)
    assert after.skills == ["zh", "en", "appliances"] and after.groups == ["cat-appliances", "tier1-general"]
    stale = client.post(url, data={**form, "max_chats": "4"})
    assert stale.status_code == 409 and "reload" in stale.text
    fresh = {**form, "version": str(after.version)}
    assert client.post(url, data={**fresh, "max_chats": "many"}).status_code == 422
    assert client.post(url, data={**fresh, "max_tickets": "900"}).status_code == 422
    assert client.post(url, data={**fresh, "tier": "t7"}).status_code == 422
    assert client.post(url, data={**fresh, "skills": "has space!"}).status_code == 422
    assert client.post(url, data={**fresh, "groups": ["nowhere"]}).status_code == 422
    assert client.post("/admin/routing/agents/999999", data=fresh).status_code == 404
    synced = client.post("/admin/routing/sync", data={"csrf_token": token}, follow_redirects=False)
    assert synced.status_code == 303 and synced.headers["location"] == "/admin/routing?notice=synced"
    assert "分配设置" in client.get("/admin/routing").text
    client.post("/language", data={"lang": "en", "next": "/admin/routing", "csrf_token": token})
    assert "Routing settings" in client.get("/admin/routing").text


def test_the_board_warns_about_work_waiting_too_long(client: TestClient, db: Database, staff: dict[str, int]) -> None:
    start = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        enqueue(db, "T-old")
    sign_in(client, "boss")
    with clock.frozen_at(start + timedelta(minutes=10)):
        calm = client.get("/supervisor", headers=HX).text
    assert 'data-testid="work-warning"' not in calm and 'data-testid="queue-warning"' not in calm
    with clock.frozen_at(start + timedelta(minutes=45)):
        late = client.get("/supervisor", headers=HX).text
    assert 'data-testid="work-warning"' in late and 'data-testid="queue-warning"' in late
    assert "45" in re.search(r'data-testid="work-warning">([^<]*)<', late).group(1)  # type: ignore[union-attr]


def test_every_panel_on_the_board_loads_for_whoever_may_open_the_board(
    client: TestClient, staff: dict[str, int]
) -> None:
    for user in ("boss", "root"):
        sign_in(client, user)
        page = client.get("/supervisor")
        assert page.status_code == 200
        for url in set(re.findall(r'hx-get="([^"]+)"', page.text)):
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200, (user, url)
