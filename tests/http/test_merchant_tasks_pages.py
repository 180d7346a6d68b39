"""Urging over HTTP: the customer's button, the merchant's list on /cases, marking it handled,
and the order page's urge fragment, each scoped to who may see it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from aftersales.cases import self_service
from aftersales.db.uow import Database
from aftersales.kit.access import SYSTEM

from ..factories import Factory
from ._support import flashed, sign_in


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    factory.catalogue()
    factory.put_order(number="SO-U1", status="paid", merchant="pop-a")
    factory.customer_user("lina", "C1")
    factory.merchant_user("merchant-a", "pop-a")
    factory.merchant_user("merchant-b", "pop-b")
    return factory


def test_an_urge_reaches_the_merchants_page_and_is_handled_there(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    answer = client.post("/orders/SO-U1/self-service/urge", data={"csrf_token": token}, follow_redirects=False)
    assert "商家" in flashed(client, answer)

    token = sign_in(client, "merchant-b")
    assert 'data-testid="urge"' not in client.get("/cases").text

    token = sign_in(client, "merchant-a")
    page = client.get("/cases").text
    assert 'data-testid="urges"' in page and "SO-U1" in page
    task_id = re.search(r"/merchant-tasks/(\d+)/handled", page)
    assert task_id is not None
    done = client.post(
        f"/merchant-tasks/{task_id.group(1)}/handled",
        data={"csrf_token": token, "note": "已加急发货", "back": "https://evil.example/"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/cases")  # never leaves the site
    assert 'data-testid="urge"' not in client.get("/cases").text
    again = client.post(
        f"/merchant-tasks/{task_id.group(1)}/handled",
        data={"csrf_token": token, "back": "/cases"},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == "/cases"
    assert 'data-testid="cases-notice"' in client.get("/cases").text  # why it was refused, once

    sign_in(client, "lina")
    fragment = client.get("/orders/SO-U1/urges", headers={"HX-Request": "true"}).text
    assert 'data-handled="true"' in fragment and "已加急发货" in fragment
    assert "/merchant-tasks/" not in fragment  # the customer cannot mark it handled


def test_a_stranger_cannot_handle_a_task(client: TestClient, shop: Factory, db: Database) -> None:
    token = sign_in(client, "lina")
    client.post("/orders/SO-U1/self-service/urge", data={"csrf_token": token})
    (task,) = self_service.open_merchant_tasks(db, SYSTEM)
    token = sign_in(client, "merchant-b")
    answer = client.post(f"/merchant-tasks/{task.id}/handled", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/cases"
    token = sign_in(client, "lina")
    assert client.post(f"/merchant-tasks/{task.id}/handled", data={"csrf_token": token}).status_code == 403
    assert self_service.open_merchant_tasks(db, SYSTEM)[0].handled_at is None
