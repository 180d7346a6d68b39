"""The chat widget over HTTP: the page and the panel for a signed-in customer, htmx posts that
return the message list, plain form posts (no JavaScript) that redirect back, quick replies,
CSRF on every post, the SSE stream, and that nobody else reads or writes the conversation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.assistant import web as chat_web
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.rules import service as rules

from ..factories import Factory
from ._support import sign_in
from .test_cases_api import put_order

HTMX = {"HX-Request": "true"}


try:  # FastAPI >= 0.16x keeps included routers nested (see test_authorization.py)
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[no-redef]
        return iter(routes)


@pytest.fixture
def chat_app(app: FastAPI) -> FastAPI:
    """The app with the chat router, until main.py includes it."""
    if not any(getattr(route, "path", "") == "/chat" for route in iter_route_contexts(app.routes)):
        app.include_router(chat_web.router)
    return app


@pytest.fixture
def web(chat_app: FastAPI) -> TestClient:
    with TestClient(chat_app, base_url="http://127.0.0.1") as test_client:
        return test_client


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-A", quantity=1)
    put_order(factory, db, "SO-B", customer="C2", merchant="pop-a")
    factory.customer_user("lina", "C1")
    factory.customer_user("bob", "C2")
    factory.user("agent", Role.AGENT_T1)
    return factory


def _conversation_id(html: str) -> int:
    match = re.search(r'data-conversation="(\d+)"', html)
    assert match, "no chat panel on the page"
    return int(match.group(1))


def test_customer_chats_a_return_with_htmx(web: TestClient, shop: Factory) -> None:
    token = sign_in(web, "lina")
    page = web.get("/chat")
    assert page.status_code == 200
    assert 'sse-connect="/chat/' in page.text and 'hx-trigger="sse:changed, sse:tick"' in page.text
    assert 'data-key="chat.welcome"' in page.text
    cid = _conversation_id(page.text)

    answer = web.post(f"/chat/{cid}/messages", data={"csrf_token": token, "text": "我要退货"}, headers=HTMX)
    assert answer.status_code == 200
    assert "<html" not in answer.text  # the fragment only
    assert 'data-sender="customer"' in answer.text and "我要退货" in answer.text
    # One delivered order with one item: it is picked, and the reason is asked with buttons.
    assert 'data-key="chat.ask_reason"' in answer.text and 'value="reason:defect"' in answer.text

    answer = web.post(f"/chat/{cid}/messages", data={"csrf_token": token, "choice": "reason:defect"}, headers=HTMX)
    assert 'data-key="chat.case.confirm"' in answer.text
    answer = web.post(f"/chat/{cid}/messages", data={"csrf_token": token, "choice": "yes"}, headers=HTMX)
    link = re.search(r'href="(/cases/AS\d+)" data-testid="chat-link"', answer.text)
    assert link, answer.text
    assert web.get(link.group(1)).status_code == 200


def test_plain_form_posts_work_without_javascript(web: TestClient, shop: Factory) -> None:
    token = sign_in(web, "lina")
    cid = _conversation_id(web.get("/chat").text)
    answer = web.post(f"/chat/{cid}/messages", data={"csrf_token": token, "text": "hi"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/chat"
    page = web.get("/chat")
    assert _conversation_id(page.text) == cid and page.text.count('data-sender="customer"') == 1


def test_the_compact_panel_and_the_fragment(web: TestClient, shop: Factory) -> None:
    sign_in(web, "lina")
    panel = web.get("/chat/panel")
    assert panel.status_code == 200 and "<html" not in panel.text and 'data-testid="chat-panel"' in panel.text
    cid = _conversation_id(panel.text)
    fragment = web.get(f"/chat/{cid}/messages")
    assert fragment.status_code == 200 and 'data-testid="chat-messages"' in fragment.text


def test_posts_need_the_csrf_token(web: TestClient, shop: Factory) -> None:
    sign_in(web, "lina")
    cid = _conversation_id(web.get("/chat").text)
    assert web.post(f"/chat/{cid}/messages", data={"text": "hi"}, follow_redirects=False).status_code == 403
    assert web.post(f"/chat/{cid}/human", data={}, follow_redirects=False).status_code == 403


def test_empty_message_is_a_sentence_not_an_error(web: TestClient, shop: Factory) -> None:
    token = sign_in(web, "lina")
    cid = _conversation_id(web.get("/chat").text)
    answer = web.post(f"/chat/{cid}/messages", data={"csrf_token": token, "text": "  "}, headers=HTMX)
    assert answer.status_code == 200 and 'data-testid="chat-error"' in answer.text
    plain = web.post(f"/chat/{cid}/messages", data={"csrf_token": token, "text": ""}, follow_redirects=False)
    assert plain.status_code == 422 and "message" in plain.text


def test_others_cannot_read_or_write_the_conversation(web: TestClient, shop: Factory) -> None:
    sign_in(web, "lina")
    cid = _conversation_id(web.get("/chat").text)
    token = sign_in(web, "bob")
    assert web.get(f"/chat/{cid}/messages").status_code == 404
    assert web.get(f"/chat/{cid}/stream").status_code == 404
    answer = web.post(f"/chat/{cid}/messages", data={"csrf_token": token, "text": "hi"}, headers=HTMX)
    assert answer.status_code == 404
    sign_in(web, "agent")
    assert web.get("/chat").status_code == 403  # the chat page is for customers
    assert web.get(f"/chat/{cid}/messages").status_code == 200  # staff may read the transcript
    web.cookies.clear()
    assert web.get("/chat", follow_redirects=False).headers["location"].startswith("/login")


def test_stream_is_server_sent_events(chat_app: FastAPI, web: TestClient, shop: Factory) -> None:
    sign_in(web, "lina")
    cid = _conversation_id(web.get("/chat").text)
    # The endpoint itself (the TestClient would wait for the endless stream to end): a
    # text/event-stream response whose first frame says "ready".
    response = chat_web.chat_stream(cid, db=chat_app.state.db, principal=_lina(chat_app.state.db))
    assert response.media_type == "text/event-stream"

    async def first_frame() -> str:
        iterator = response.body_iterator
        frame = await iterator.__anext__()  # type: ignore[union-attr]
        await iterator.aclose()  # type: ignore[union-attr]
        return frame if isinstance(frame, str) else bytes(frame).decode()

    assert asyncio.run(first_frame()).startswith("event: ready")


def _lina(db: Database):  # type: ignore[no-untyped-def]
    from aftersales.identity import service as identity

    user = next(u for u in identity.list_users(db) if u.username == "lina")
    principal = identity.principal_for_user_id(db, user.id)
    assert principal is not None
    return principal


def test_every_chat_route_refuses_strangers_and_tokens(chat_app: FastAPI, web: TestClient, factory: Factory) -> None:
    """What tests/http/test_authorization.py checks for every route, for the chat's routes now."""
    from ._support import bearer, csrf_token

    factory.user("root", Role.ADMIN)
    admin_token = bearer(factory, "root")
    token = csrf_token(web)
    routes = [
        (method, route.path)
        for route in iter_route_contexts(chat_app.routes)
        if getattr(route, "path", "").startswith("/chat")
        for method in getattr(route, "methods", ())
    ]
    assert len(routes) >= 6
    for method, path in routes:
        url = path.replace("{conversation_id}", "1")
        data = None if method == "GET" else {"csrf_token": token, "text": "hi"}
        answer = web.request(method, url, data=data, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), (method, url)
        if method == "GET":
            answer = web.request(method, url, headers=admin_token, follow_redirects=False)
            assert answer.status_code == 303, (method, url)


def test_the_stream_hears_the_customers_own_messages(chat_app: FastAPI, web: TestClient, shop: Factory) -> None:
    """A real stream: each chat message reaches the customer's own stream (its signal names her as
    its audience), and the same signal does not reach another customer listening on the channel."""
    from aftersales.assistant import conversation as chat
    from aftersales.messaging import live

    token = sign_in(web, "lina")
    cid = _conversation_id(web.get("/chat").text)
    db = chat_app.state.db
    response = chat_web.chat_stream(cid, db=db, principal=_lina(db))
    from aftersales.identity import service as identity

    bob = identity.principal_for_username(db, "bob")

    async def scenario() -> tuple[str, int]:
        frames = response.body_iterator
        await frames.__anext__()  # type: ignore[union-attr]
        waiting = asyncio.ensure_future(frames.__anext__())  # type: ignore[union-attr]
        with live.hub().listen(chat.channel(cid), viewer=bob) as strangers:
            await asyncio.sleep(0.1)
            await asyncio.to_thread(
                web.post, f"/chat/{cid}/messages", data={"csrf_token": token, "text": "hi"}, headers=HTMX
            )
            frame = await asyncio.wait_for(waiting, 5)
            await asyncio.sleep(0.1)
            overheard = strangers.qsize()
        await frames.aclose()  # type: ignore[union-attr]
        return (frame if isinstance(frame, str) else bytes(frame).decode()), overheard

    frame, overheard = asyncio.run(scenario())
    assert frame.startswith("event: changed")
    assert overheard == 0
