"""Urging an order (催单) reaches the merchant as a task with its own deadline: on the merchant's
list, on the order's timeline, handled once by the merchant's side, and invisible to other
merchants. The customer's message says exactly that."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.cases import self_service
from aftersales.cases.models import MerchantTask
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, NotFound
from aftersales.orders import service as orders

from ..factories import Factory
from .helpers import timeline_rows


def _principal(db: Database, username: str) -> Principal:
    user = next(u for u in identity.list_users(db) if u.username == username)
    found = identity.principal_for_user_id(db, user.id)
    assert found is not None
    return found


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    factory.catalogue()
    factory.put_order(number="SO-U1", status="paid", merchant="pop-a")
    factory.put_order(number="SO-U2", status="paid", merchant="pop-b", customer="C2", phone="13900000000")
    factory.customer_user("lina", "C1")
    factory.merchant_user("merchant-a", "pop-a")
    factory.merchant_user("merchant-b", "pop-b")
    factory.merchant_user("whouse-a", "pop-a", Role.WAREHOUSE)
    factory.user("rider", Role.RIDER)
    return factory


def test_an_urge_is_a_task_on_the_merchants_list_with_a_deadline(shop: Factory, db: Database) -> None:
    lina = _principal(db, "lina")
    before = clock.now()
    result = self_service.urge_delivery(db, "SO-U1", lina)
    assert result.done
    assert "merchant" in result.message_en and "courier" not in result.message_en
    assert "商家" in result.message_zh and "快递" not in result.message_zh

    mine = self_service.open_merchant_tasks(db, _principal(db, "merchant-a"))
    assert [(t.order_number, t.kind, t.handled_at) for t in mine] == [("SO-U1", "urge", None)]
    # Due 24 hours after the urge (AFTERSALES_URGE_ANSWER_HOURS), and the message names that time.
    assert before + timedelta(hours=24) <= mine[0].due_at <= clock.now() + timedelta(hours=24)
    due_local = mine[0].due_at.astimezone(get_settings().zone)
    assert f"{due_local:%Y-%m-%d %H:%M}" in result.message_en
    assert self_service.open_merchant_tasks(db, _principal(db, "merchant-b")) == []
    assert [t.order_number for t in self_service.open_merchant_tasks(db, _principal(db, "whouse-a"))] == ["SO-U1"]
    assert [r["action"] for r in timeline_rows(db, "order") if r["action"].startswith("order.urge")] == ["order.urged"]


def test_the_deadline_comes_from_the_setting(shop: Factory, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSALES_URGE_ANSWER_HOURS", "4")
    self_service.urge_delivery(db, "SO-U1", _principal(db, "lina"))
    (task,) = self_service.open_merchant_tasks(db, _principal(db, "merchant-a"))
    assert task.due_at - task.created_at == timedelta(hours=4)


def test_the_merchant_handles_it_once_and_the_order_timeline_shows_it(shop: Factory, db: Database) -> None:
    lina = _principal(db, "lina")
    self_service.urge_delivery(db, "SO-U1", lina)
    (task,) = self_service.open_merchant_tasks(db, _principal(db, "merchant-a"))

    with pytest.raises(NotFound):  # another merchant's task does not exist for them
        self_service.handle_merchant_task(db, task.id, "", _principal(db, "merchant-b"))
    with pytest.raises(Forbidden):
        self_service.handle_merchant_task(db, task.id, "", lina)
    with pytest.raises(Forbidden):
        self_service.handle_merchant_task(db, task.id, "", _principal(db, "rider"))

    done = self_service.handle_merchant_task(db, task.id, "Shipped this afternoon", _principal(db, "merchant-a"))
    assert done.handled_at is not None and done.handled_by and done.handled_note == "Shipped this afternoon"
    with pytest.raises(Conflict, match="already handled"):
        self_service.handle_merchant_task(db, task.id, "again", _principal(db, "whouse-a"))
    assert self_service.open_merchant_tasks(db, _principal(db, "merchant-a")) == []

    entries = [r for r in timeline_rows(db, "order") if r["action"].startswith("order.urge")]
    assert [(r["action"], r["reason"]) for r in entries] == [
        ("order.urged", "note.urge_on_merchant_list"),
        ("order.urge_handled", "Shipped this afternoon"),
    ]
    # The customer sees the urge and what the merchant did on the order.
    seen = self_service.merchant_tasks_of_order(db, "SO-U1", lina)
    assert [(t.handled_note, t.overdue) for t in seen] == [("Shipped this afternoon", False)]
    customer_view = orders.get_order(db, "SO-U1", lina).timeline
    assert {"order.urged", "order.urge_handled"} <= {e.action for e in customer_view}


def test_an_unhandled_task_past_its_deadline_is_overdue(shop: Factory, db: Database) -> None:
    self_service.urge_delivery(db, "SO-U1", _principal(db, "lina"))
    with db.write() as uow:
        task = uow.session.query(MerchantTask).one()
        task.due_at = clock.now() - timedelta(minutes=1)
        uow.commit()
    (task_out,) = self_service.open_merchant_tasks(db, _principal(db, "merchant-a"))
    assert task_out.overdue
