"""The same scopes in the service layer: merchant-bound integrations, customers' identity fields,
the customer's other orders and tickets, merges across customers and the mail that follows one."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role, Scope
from aftersales.kit.errors import Conflict, Invalid
from aftersales.orders import service as orders
from aftersales.orders.schemas import OrderIn
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import service as sla
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, TicketAction, TicketStatus
from aftersales.tickets.email import inbound as ticket_email
from aftersales.tickets.schemas import ActionIn, TicketIn

from ..factories import Factory
from .helpers import delivered_order


def _who(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


@pytest.fixture
def market(db: Database, factory: Factory) -> Factory:
    factory.catalogue()
    delivered_order(factory, db, "SO-A1", merchant="pop-a", customer="CA", customer_name="Alice")
    delivered_order(factory, db, "SO-B2", merchant="pop-b", customer="CA", customer_name="Alice")
    delivered_order(factory, db, "SO-B1", merchant="pop-b", customer="CB", customer_name="Bob")
    factory.customer_user("alice", "CA")
    factory.customer_user("bob", "CB")
    factory.user("agent1", Role.AGENT_T1)
    factory.merchant_user("shop-a", "pop-a")
    factory.merchant_user("feed-a", "pop-a", Role.INTEGRATION)
    rules.load_defaults(db)
    sla.load_defaults(db)
    routing.ensure_defaults(db)
    return factory


def test_tokens_carry_their_scopes_into_the_principal(db: Database, market: Factory) -> None:
    issued = identity.create_token(db, "feed-a", scopes=[Scope.TICKETS_READ, Scope.ORDERS_WRITE])
    principal = identity.principal_for_token(db, issued.token)
    assert principal is not None
    assert principal.scopes == frozenset({Scope.TICKETS_READ, Scope.ORDERS_WRITE})
    assert _who(db, "feed-a").scopes is None  # a signed-in person: what the role allows


def test_a_merchant_bound_integration_cannot_open_a_ticket_on_another_merchants_order(
    db: Database, market: Factory
) -> None:
    feed_a = _who(db, "feed-a")
    with pytest.raises(Invalid) as foreign:
        tickets.open_ticket(db, TicketIn(body="hi", order_number="SO-B1"), feed_a)
    with pytest.raises(Invalid) as missing:
        tickets.open_ticket(db, TicketIn(body="hi", order_number="SO-NO"), feed_a)
    assert foreign.value.message.replace("SO-B1", "#") == missing.value.message.replace("SO-NO", "#")
    number = tickets.open_ticket(db, TicketIn(body="hi", order_number="SO-A1"), feed_a).number
    listed = tickets.list_tickets(db, feed_a)
    assert [t.number for t in listed.items] == [number]


def test_an_upsert_by_a_merchant_keeps_a_foreign_customers_identity(db: Database, market: Factory) -> None:
    feed_a = _who(db, "feed-a")
    payload = Factory.order_payload("SO-A5", merchant="pop-a", customer="CB", customer_name="Mallory", phone="1")
    payload["customer"]["email"] = "mallory@evil.example.com"
    result = orders.upsert_order(db, OrderIn.model_validate(payload), feed_a)
    assert result.result == "created" and sorted(result.customer_fields_kept) == ["email", "name", "phone"]
    contact = orders.customer_contact(db, orders.customer_id_for(db, "CB") or 0)
    assert contact is not None and (contact.name, contact.email, contact.phone) == ("Bob", "", "13800138000")
    # The divergence is kept on the order's internal timeline for the staff.
    audit = orders.get_order(db, "SO-A5", _who(db, "agent1"))
    assert any(e.action == "order.customer_details_differ" for e in audit.timeline)
    # The same revision again changes nothing and records nothing more.
    again = orders.upsert_order(db, OrderIn.model_validate(payload), feed_a)
    assert again.result == "unchanged"
    assert len([e for e in orders.get_order(db, "SO-A5", _who(db, "agent1")).timeline if "differ" in e.action]) == 1


def test_the_customers_other_orders_and_tickets_are_scoped_to_the_viewer(db: Database, market: Factory) -> None:
    customer_id = orders.customer_id_for(db, "CA")
    assert customer_id is not None
    shop_a = _who(db, "shop-a")
    assert [o.number for o in orders.recent_orders_of_customer(db, customer_id, 10, shop_a)] == ["SO-A1"]
    agent = _who(db, "agent1")
    assert {o.number for o in orders.recent_orders_of_customer(db, customer_id, 10, agent)} == {"SO-A1", "SO-B2"}
    alice = _who(db, "alice")
    own = tickets.open_ticket(db, TicketIn(body="a", channel=Channel.WEB, order_number="SO-A1"), alice).number
    other = tickets.open_ticket(db, TicketIn(body="b", channel=Channel.WEB, order_number="SO-B2"), alice).number
    assert [t.number for t in tickets.customer_tickets(db, customer_id, "", 10, shop_a)] == [own]
    assert {t.number for t in tickets.customer_tickets(db, customer_id, "", 10, agent)} == {own, other}


def _mail(body: str, message_id: str, sender: str, subject: str, in_reply_to: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@shop.example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


def test_a_merge_across_customers_needs_confirmation_and_later_mail_stays_with_its_sender(
    db: Database, market: Factory
) -> None:
    agent, alice = _who(db, "agent1"), _who(db, "alice")
    target = tickets.open_ticket(db, TicketIn(body="alice: broken", channel=Channel.WEB, order_number="SO-A1"), alice)
    first = ticket_email.receive_email(
        db, _mail("mallory: my cup broke", "<m1@mail.example.com>", "Mallory <m@example.com>", "杯子碎了")
    )
    source = first.ticket_number
    with pytest.raises(Conflict, match="different customers"):
        tickets.act(db, source, ActionIn(action=TicketAction.MERGE, merge_into=target.number), agent)
    assert tickets.get_ticket(db, source, agent).status is not TicketStatus.CLOSED
    tickets.act(
        db,
        source,
        ActionIn(action=TicketAction.MERGE, merge_into=target.number, confirm_other_customer=True),
        agent,
    )
    assert tickets.get_ticket(db, source, agent).merged_into == target.number
    # Mallory answers her own thread: it must not land in Alice's ticket.
    later = ticket_email.receive_email(
        db,
        _mail(
            "mallory: still broken",
            "<m2@mail.example.com>",
            "Mallory <m@example.com>",
            "Re: 杯子碎了",
            "<m1@mail.example.com>",
        ),
    )
    assert later.ticket_number not in ("", target.number)
    seen_by_alice = tickets.get_ticket(db, target.number, alice)
    assert not any("mallory" in m.body for m in seen_by_alice.messages)


def test_a_merge_of_the_same_customers_tickets_needs_no_confirmation(db: Database, market: Factory) -> None:
    agent, alice = _who(db, "agent1"), _who(db, "alice")
    one = tickets.open_ticket(db, TicketIn(body="one", channel=Channel.WEB, order_number="SO-A1"), alice).number
    two = tickets.open_ticket(db, TicketIn(body="two", channel=Channel.WEB, order_number="SO-B2"), alice).number
    merged = tickets.act(db, one, ActionIn(action=TicketAction.MERGE, merge_into=two), agent)
    assert merged.merged_into == two
