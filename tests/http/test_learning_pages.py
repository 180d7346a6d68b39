"""The pages of learning from hand-offs: the customer's consent in the chat, the agent's "the
customer wanted" form on a hand-off's ticket, the supervisors' approval list; CSRF and roles on
every post, both languages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from aftersales.assistant import learning
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.rules import service as rules

from ..factories import Factory
from ._support import sign_in
from .test_cases_api import put_order

HTMX = {"HX-Request": "true"}
SUPERVISOR = Principal(user_id=0, username="sue", role=Role.SUPERVISOR, display_name="Sue")


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-A", quantity=1)
    put_order(factory, db, "SO-B", customer="C2", merchant="pop-a")
    factory.customer_user("lina", "C1")
    factory.customer_user("bob", "C2")
    factory.user("agent", Role.AGENT_T1)
    factory.user("sup", Role.SUPERVISOR)
    return factory


def _conversation(client: TestClient) -> int:
    match = re.search(r'data-conversation="(\d+)"', client.get("/chat").text)
    assert match
    return int(match.group(1))


def _handed_off(client: TestClient, *, consent: str | None) -> tuple[int, str]:
    token = sign_in(client, "lina")
    cid = _conversation(client)
    if consent:
        client.post(f"/chat/{cid}/consent", data={"csrf_token": token, "consent": consent})
    client.post(f"/chat/{cid}/messages", data={"csrf_token": token, "text": "我那个东西怎么弄啊"})
    client.post(f"/chat/{cid}/human", data={"csrf_token": token})
    ticket = re.search(r"/desk/tickets/([A-Z0-9-]+)", client.get(f"/chat/{cid}/messages").text)
    page = client.get("/chat").text
    number = re.search(r"(TK[0-9A-Z-]+)", page)
    assert ticket or number, "the hand-off names its ticket"
    return cid, (ticket.group(1) if ticket else number.group(1))  # type: ignore[union-attr]


def test_the_chat_asks_for_consent_and_keeps_the_answer(client: TestClient, shop: Factory, db: Database) -> None:
    token = sign_in(client, "lina")
    page = client.get("/chat").text
    assert 'data-testid="chat-consent"' in page and 'data-consent="unanswered"' in page
    assert "可以用这段对话帮助改进智能助手吗" in page
    cid = _conversation(client)
    assert client.post(f"/chat/{cid}/consent", data={"consent": "yes"}).status_code == 403  # CSRF
    fragment = client.post(f"/chat/{cid}/consent", data={"csrf_token": token, "consent": "yes"}, headers=HTMX)
    assert fragment.status_code == 200 and 'data-consent="yes"' in fragment.text and "<html" not in fragment.text
    plain = client.post(f"/chat/{cid}/consent", data={"csrf_token": token, "consent": "no"}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/chat"
    assert learning.consent_of(db, cid) is False
    bad = client.post(f"/chat/{cid}/consent", data={"csrf_token": token, "consent": "maybe"})
    assert bad.status_code == 422
    # Nobody else answers for this conversation.
    other = sign_in(client, "bob")
    assert client.post(f"/chat/{cid}/consent", data={"csrf_token": other, "consent": "yes"}).status_code == 404
    assert learning.consent_of(db, cid) is False


def test_the_chat_asks_in_english_too(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    client.post("/language", data={"lang": "en", "next": "/chat", "csrf_token": token})
    assert "May we use this conversation to improve the assistant?" in client.get("/chat").text


def test_an_agent_corrects_the_intent_and_a_supervisor_approves(
    client: TestClient, shop: Factory, db: Database
) -> None:
    cid, number = _handed_off(client, consent="yes")
    token = sign_in(client, "agent")
    ticket = client.get(f"/desk/tickets/{number}")
    assert ticket.status_code == 200
    assert f'hx-get="/assistant/conversations/{cid}/intent"' in ticket.text
    form = client.get(f"/assistant/conversations/{cid}/intent", headers=HTMX)
    assert form.status_code == 200 and "<html" not in form.text
    assert "我那个东西怎么弄啊" in form.text and 'name="intent"' in form.text and "客户想要" in form.text
    page = client.get(f"/assistant/conversations/{cid}/intent")
    assert "<html" in page.text and f"/desk/tickets/{number}" in page.text  # without JavaScript: a page

    url = f"/assistant/conversations/{cid}/intent"
    assert client.post(url, data={"intent": "repair"}).status_code == 403  # CSRF
    wrong = client.post(url, data={"csrf_token": token, "intent": "make_coffee"}, headers=HTMX)
    assert wrong.status_code == 422 and "请选择助手的一个意图" in wrong.text
    saved = client.post(url, data={"csrf_token": token, "intent": "repair"}, headers=HTMX)
    assert saved.status_code == 200 and 'data-testid="intent-saved"' in saved.text
    assert client.get("/assistant/examples").status_code == 403  # agents label, supervisors approve

    token = sign_in(client, "sup")
    listing = client.get("/assistant/examples")
    assert listing.status_code == 200 and "我那个东西怎么弄啊" in listing.text and "维修" in listing.text
    assert 'data-testid="nav-learning"' in listing.text  # found from every page's navigation
    [example] = learning.examples(db, SUPERVISOR)
    assert client.post(f"/assistant/examples/{example.id}/approve", data={}).status_code == 403  # CSRF
    done = client.post(f"/assistant/examples/{example.id}/approve", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert learning.approved(db) == [("我那个东西怎么弄啊", "repair")]
    assert "我那个东西怎么弄啊" in client.get("/assistant/examples?status=approved").text
    assert client.post(f"/assistant/examples/{example.id}/undo", data={"csrf_token": token}).status_code == 404


def test_without_consent_the_desk_keeps_nothing(client: TestClient, shop: Factory, db: Database) -> None:
    cid, _ = _handed_off(client, consent=None)
    token = sign_in(client, "agent")
    form = client.get(f"/assistant/conversations/{cid}/intent", headers=HTMX)
    assert 'data-testid="intent-unavailable"' in form.text and 'name="intent"' not in form.text
    refused = client.post(
        f"/assistant/conversations/{cid}/intent", data={"csrf_token": token, "intent": "repair"}, headers=HTMX
    )
    assert refused.status_code == 422 and "客户未同意使用本对话" in refused.text
    assert learning.examples(db, SUPERVISOR) == []


def test_customers_cannot_label_or_review(client: TestClient, shop: Factory) -> None:
    cid, _ = _handed_off(client, consent="yes")
    assert client.get(f"/assistant/conversations/{cid}/intent").status_code == 403
    assert client.get("/assistant/examples").status_code == 403
