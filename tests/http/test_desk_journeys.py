"""Every role's day on the desk, over HTTP: a macro fills the reply box and sends nothing; the
reason a ticket was transferred or escalated is on the ticket for the next handler; reporting a
line out of stock asks once, with the refund amount, before any money moves."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.tickets import macros as ticket_macros
from aftersales.tickets import service as tickets

from ..factories import Factory
from ._support import sign_in
from .test_cases_api import put_order, refunds_of
from .test_desk_pages import shop as shop


@pytest.fixture
def desk(shop: Factory) -> Factory:
    """The desk pages' shop, with a tier-2 agent and a supervisor to hand tickets to."""
    shop.user("agent2", Role.AGENT_T2)
    shop.user("boss", Role.SUPERVISOR)
    return shop


def _open_ticket(client: TestClient) -> str:
    token = sign_in(client, "lina")
    page = client.post("/support", data={"csrf_token": token, "order_number": "SO-1", "body": "耳机没有声音"})
    found = re.search(r"TK\d{12}", page.text)
    assert found, page.text[:300]
    return found.group(0)


def _who(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


def _macro_id(db: Database, key: str) -> int:
    return next(int(m["id"]) for m in ticket_macros.listed(db) if m["key"] == key)


def test_a_macro_fills_the_reply_box_and_sends_nothing(client: TestClient, desk: Factory, db: Database) -> None:
    number = _open_ticket(client)
    token = sign_in(client, "agent1")
    before = tickets.get_ticket(db, number, _who(db, "agent1"))
    macro = _macro_id(db, "ask_photos")  # proposes "pending" and the tag evidence.requested

    fragment = client.get(f"/desk/tickets/{number}/macro", params={"macro_id": macro}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200, fragment.text
    assert "<html" not in fragment.text
    box = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', fragment.text, re.S)
    assert box and "SO-1" in unescape(box.group(1)) and "{{" not in box.group(1)
    assert re.search(r'<option value="pending" selected', fragment.text)
    assert 'value="evidence.requested"' in fragment.text

    # Without JavaScript the same link gives the whole page with the box filled.
    page = client.get(f"/desk/tickets/{number}/macro", params={"macro_id": macro})
    assert page.status_code == 200 and "<html" in page.text and "SO-1" in page.text

    after = tickets.get_ticket(db, number, _who(db, "agent1"))
    assert (after.status, len(after.messages), after.tags) == (before.status, len(before.messages), before.tags)
    # The old one-click "use" that sent at once is gone.
    assert client.post(f"/desk/tickets/{number}/macro", data={"csrf_token": token, "macro_id": macro}).status_code in (
        404,
        405,
    )
    assert len(tickets.get_ticket(db, number, _who(db, "agent1")).messages) == len(before.messages)

    sent = client.post(
        f"/desk/tickets/{number}/messages",
        data={
            "csrf_token": token,
            "body": "您好，请拍两张耳机和包装的照片（已编辑）",
            "kind": "reply",
            "then": "pending",
            "tags": "evidence.requested",
        },
    )
    assert sent.status_code == 200, sent.text
    done = tickets.get_ticket(db, number, _who(db, "agent1"))
    assert done.status.value == "pending"
    assert done.messages[-1].body == "您好，请拍两张耳机和包装的照片（已编辑）"
    assert "evidence.requested" in done.tags


def test_a_macro_for_another_ticket_or_a_missing_macro_is_a_sentence(
    client: TestClient, desk: Factory, db: Database
) -> None:
    number = _open_ticket(client)
    sign_in(client, "agent1")
    assert client.get(f"/desk/tickets/{number}/macro", params={"macro_id": 99999}).status_code == 404
    bad = client.get(f"/desk/tickets/{number}/macro", params={"macro_id": "x"})
    assert bad.status_code == 422 and "Choose a macro" in bad.text


def test_the_next_handler_reads_why_the_ticket_was_transferred_and_escalated(
    client: TestClient, desk: Factory, db: Database
) -> None:
    number = _open_ticket(client)
    token = sign_in(client, "agent1")
    group = routing.group_options(db)[0].key
    moved = client.post(
        f"/desk/tickets/{number}/actions",
        data={"csrf_token": token, "action": "assign", "group_key": group, "reason": "客户要开发票，请财务同事跟进"},
    )
    assert moved.status_code == 200, moved.text
    sign_in(client, "boss")
    page = client.get(f"/desk/tickets/{number}")
    assert page.status_code == 200
    notes = re.findall(r'data-testid="handoff-note".*?</li>', page.text, re.S)
    assert len(notes) == 1 and "客户要开发票，请财务同事跟进" in notes[0] and "agent1" in notes[0]
    # Customers never read the internal reason.
    sign_in(client, "lina")
    assert "客户要开发票" not in client.get(f"/support/{number}").text


@pytest.fixture
def warehouse(db: Database, factory: Factory) -> Factory:
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-P", stage="paid", quantity=3)  # 3 × 199.00, not shipped
    factory.merchant_user("whouse", "selfop", Role.WAREHOUSE)
    return factory


def _confirm_form(html: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*data-testid="confirm-out-of-stock".*?</form>', html, re.S)
    assert form, html[:2000]
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(0)))


def test_out_of_stock_asks_once_with_the_amount_then_refunds_once(
    client: TestClient, warehouse: Factory, db: Database
) -> None:
    token = sign_in(client, "whouse")
    # The old button refunded at once; now the first post only shows what will happen.
    asked = client.post(
        "/orders/SO-P/self-service/out-of-stock", data={"csrf_token": token, "line_no": "1", "quantity": "2"}
    )
    assert asked.status_code == 200, asked.text
    assert "398.00" in asked.text and refunds_of(db, "SO-P") == []
    fields = _confirm_form(asked.text)
    assert fields["quantity"] == "2" and fields["line_no"] == "1"

    done = client.post("/orders/SO-P/self-service/out-of-stock", data=fields)
    assert done.status_code == 200, done.text
    again = client.post("/orders/SO-P/self-service/out-of-stock", data=fields)  # a double submit
    assert again.status_code == 200
    assert refunds_of(db, "SO-P") == [(Decimal("398.00"), "succeeded")]


@pytest.mark.parametrize(("quantity", "says"), [("4", "at most 3"), ("0", "at least 1"), ("two", "whole number")])
def test_out_of_stock_quantity_is_checked(
    client: TestClient, warehouse: Factory, db: Database, quantity: str, says: str
) -> None:
    token = sign_in(client, "whouse")
    asked = client.post(
        "/orders/SO-P/self-service/out-of-stock", data={"csrf_token": token, "line_no": "1", "quantity": quantity}
    )
    assert says in unescape(asked.text)
    assert 'data-testid="confirm-out-of-stock"' not in asked.text
    assert refunds_of(db, "SO-P") == []


def test_cancelling_a_paid_order_shows_the_refund_and_asks_once(
    client: TestClient, warehouse: Factory, db: Database
) -> None:
    warehouse.customer_user("lina", "C1")
    token = sign_in(client, "lina")
    asked = client.post("/orders/SO-P/self-service/cancel", data={"csrf_token": token})
    assert asked.status_code == 200 and "597.00" in asked.text
    assert refunds_of(db, "SO-P") == []
    form = re.search(r'<form[^>]*data-testid="confirm-cancel".*?</form>', asked.text, re.S)
    assert form
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(0)))
    assert client.post("/orders/SO-P/self-service/cancel", data=fields).status_code == 200
    assert client.post("/orders/SO-P/self-service/cancel", data=fields).status_code == 200  # twice
    assert refunds_of(db, "SO-P") == [(Decimal("597.00"), "succeeded")]


def test_approving_a_compensation_shows_the_amount_and_refunds_once_confirmed(
    client: TestClient, desk: Factory, db: Database
) -> None:
    token = sign_in(client, "agent1")
    made = client.post(
        "/orders/SO-1/after-sales",
        data={"csrf_token": token, "kind": "compensation", "reason": "defect", "compensation_amount": "30"},
    )
    assert made.status_code == 200, made.text
    number = made.url.path.rsplit("/", 1)[-1]
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-approve"' in page, "the compensation should wait for review"
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version

    asked = client.post(
        f"/cases/{number}/act", data={"csrf_token": token, "action": "approve", "version": version.group(1)}
    )
    assert asked.status_code == 200 and "30.00" in asked.text
    assert refunds_of(db, "SO-1") == []
    form = re.search(r'<form[^>]*data-testid="confirm-refund".*?</form>', asked.text, re.S)
    assert form
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(0)))
    assert client.post(f"/cases/{number}/act", data=fields).status_code == 200
    assert client.post(f"/cases/{number}/act", data=fields).status_code == 200  # a second click: stale version
    assert refunds_of(db, "SO-1") == [(Decimal("30.00"), "succeeded")]


def test_the_rest_of_a_partly_reported_line_can_be_reported_later(
    client: TestClient, warehouse: Factory, db: Database
) -> None:
    token = sign_in(client, "whouse")
    post = "/orders/SO-P/self-service/out-of-stock"
    first = _confirm_form(client.post(post, data={"csrf_token": token, "line_no": "1", "quantity": "1"}).text)
    client.post(post, data=first)
    page = client.get("/orders/SO-P").text
    assert 'data-testid="out-of-stock-qty-1"' in page  # 2 units may still ship: the line is not out of stock

    asked = client.post(post, data={"csrf_token": token, "line_no": "1", "quantity": "3"})
    assert "at most 2" in unescape(asked.text)  # the unit already refunded cannot be reported again
    rest = _confirm_form(client.post(post, data={"csrf_token": token, "line_no": "1", "quantity": "2"}).text)
    client.post(post, data=rest)
    client.post(post, data=first)  # an old confirmation sent again
    assert refunds_of(db, "SO-P") == [(Decimal("199.00"), "succeeded"), (Decimal("398.00"), "succeeded")]
    assert 'data-testid="out-of-stock-qty-1"' not in client.get("/orders/SO-P").text


def test_macros_speak_as_the_agent_and_only_fit_tickets_they_can_fill(
    client: TestClient, desk: Factory, db: Database
) -> None:
    desk.user("zhang", Role.AGENT_T1, display_name="张敏 (一线)")
    number = _open_ticket(client)  # has order SO-1, no case
    sign_in(client, "zhang")
    page = client.get(f"/desk/tickets/{number}")
    offered = re.findall(r'<option value="(\d+)"', page.text)
    assert str(_macro_id(db, "ask_photos")) in offered
    assert str(_macro_id(db, "return_started")) not in offered  # needs a case number the ticket lacks
    assert str(_macro_id(db, "ask_order_number")) not in offered  # the ticket has its order
    hole = client.get(f"/desk/tickets/{number}/macro", params={"macro_id": _macro_id(db, "return_started")})
    assert hole.status_code == 422

    token = sign_in(client, "lina")
    bare = client.post("/support", data={"csrf_token": token, "body": "我想问一下退货"})
    bare_number = re.findall(r"TK\d{12}", bare.text)[0]
    sign_in(client, "zhang")
    filled = client.get(
        f"/desk/tickets/{bare_number}/macro",
        params={"macro_id": _macro_id(db, "ask_order_number")},
        headers={"HX-Request": "true"},
    )
    box = unescape(filled.text.split("<textarea", 1)[1].split("</textarea>", 1)[0])
    assert "张敏" in box and "一线" not in box  # the tier is for staff, not the customer


def test_unassigned_means_no_assignee_for_a_merchant_too(client: TestClient, desk: Factory, db: Database) -> None:
    from sqlalchemy import update

    from aftersales.tickets.models import Ticket

    seller = desk.merchant_user("seller", "selfop")
    mine, free = _open_ticket(client), _open_ticket(client)
    with db.write() as uow:
        for number, assignee in ((mine, seller.id), (free, None)):
            uow.session.execute(
                update(Ticket)
                .where(Ticket.number == number)
                .values(assignee_user_id=assignee, merchant_id=seller.merchant_id)
            )
        uow.commit()
    sign_in(client, "seller")
    assert free in client.get("/desk", params={"scope": "active"}).text  # the merchant sees both
    page = client.get("/desk", params={"scope": "unassigned"})
    assert page.status_code == 200
    assert free in page.text and mine not in page.text


def test_a_supervisors_reassign_is_in_the_tickets_history_and_the_audit_log(
    client: TestClient, desk: Factory, db: Database
) -> None:
    from aftersales.messaging import outbox
    from aftersales.tickets import handlers

    handlers.register()
    desk.user("root", Role.ADMIN)
    number = _open_ticket(client)
    two = _who(db, "agent2")
    routing.change_status(db, two, routing.AgentStatus.ONLINE)
    token = sign_in(client, "boss")
    form = {"csrf_token": token, "kind": "ticket", "ref": number, "to_user_id": str(two.user_id)}
    assert client.post("/supervisor/reassign", data=form).status_code == 200
    outbox.drain(db)
    sign_in(client, "root")
    audit = client.get("/admin/audit", params={"subject": "ticket"})
    assert audit.status_code == 200
    assert '<option value="ticket" selected' in audit.text
    assert number in audit.text and "agent1 → agent2" in unescape(audit.text) and "主管改派" in audit.text
