"""The wallet on a real database: lateness compensation from the order-delivered event, paid once
per order under a retried handler, a crash between the issuer and our record, and a flaky issuer;
the exclusions (on time, pre-order, declared force majeure, the buyer's doing); agents' offers
within the policies' limits, once per ticket; and the customer told through the outbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.messaging import outbox
from aftersales.notifications import handlers as notification_handlers
from aftersales.notifications.models import InboxMessage
from aftersales.orders import service as orders
from aftersales.orders.events import OrderStatusChanged
from aftersales.orders.schemas import OrderIn
from aftersales.rules import service as rules
from aftersales.wallet import handlers, service
from aftersales.wallet.issuer import IssuerUnavailable, SimulatedIssuer, use_issuer
from aftersales.wallet.models import IssuedCoupon, WalletEntry
from aftersales.wallet.schemas import ForceMajeureIn, OfferIn

from ..factories import FEED, T0, Factory
from .helpers import ADMIN, outbox_rows, scan, shipment, timeline_rows

# Paid 10:01 Shanghai time in Shanghai, before the 11:00 cut-off: due that day by 22:00 (T0 + 12 h).
PROMISE_MINUTES = 12 * 60
DAY_LATE = PROMISE_MINUTES + 24 * 60 + 10
AGENT = Principal(user_id=7, username="agent.wang", role=Role.AGENT_T1, display_name="王客服")


@pytest.fixture
def shop(factory: Factory, db: Database, no_outbox_kick: None) -> Iterator[Factory]:
    factory.catalogue()
    rules.load_defaults(db)
    use_issuer(db, None)
    yield factory
    use_issuer(db, None)


def put(
    number: str, *, tags: list[str] | None = None, lines: list[dict[str, Any]] | None = None, customer: str = "C1"
) -> int:
    payload = Factory.order_payload(number, customer=customer, lines=lines, shipments=[shipment(f"SF{number}")])
    payload["tags"] = tags or []
    orders.upsert_order(_db, OrderIn.model_validate(payload), FEED)
    return _order_id(_db, number)


_db: Database


@pytest.fixture(autouse=True)
def _remember(db: Database) -> None:
    global _db
    _db = db


def deliver(number: str, minutes: int) -> None:
    orders.record_logistics_event(_db, scan(f"d-{number}", f"SF{number}", "delivered", minutes), FEED)


def delivered_event(order_id: int, number: str) -> OrderStatusChanged:
    return OrderStatusChanged(
        order=number, order_id=order_id, customer_id=None, from_status="paid", to_status="delivered"
    )


def count(db: Database, model: type) -> int:
    with db.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_parcel_a_day_late_is_paid_once_however_often_the_handler_runs(shop: Factory, db: Database) -> None:
    order_id = put("SO-1")  # 2 × 199.00 = 398.00 paid
    deliver("SO-1", DAY_LATE)
    handlers.on_order_status_changed(delivered_event(order_id, "SO-1"), "k1")
    handlers.on_order_status_changed(delivered_event(order_id, "SO-1"), "k1")  # the worker retried
    again = service.compensate_late_delivery(db, order_id)
    assert again.outcome == "already_issued"
    [entry] = service.wallet_of(db, _customer(db), ADMIN).entries
    assert (entry.value, entry.currency, entry.status, entry.trigger) == (
        Decimal("19.90"),
        "CNY",
        "issued",
        "late_delivery",
    )
    assert (entry.source_kind, entry.source_ref, entry.order_number) == ("rule", "late_parcel_one_day", "SO-1")
    assert entry.expires_at - entry.issued_at == timedelta(days=30)
    assert count(db, IssuedCoupon) == 1, "the issuer issued one coupon"
    [event] = outbox_rows(db, "wallet.coupon_issued")
    assert event["payload"]["amount"] == "19.90" and event["idempotency_key"] == "wallet:late:SO-1"
    [note] = [r for r in timeline_rows(db, "order") if r["action"] == "order.coupon_issued"]
    assert (note["actor_kind"], note["reason"]) == ("system", f"19.90 CNY · {entry.code}")


def _customer(db: Database) -> int:
    customer_id = orders.customer_id_for(db, "C1")
    assert customer_id is not None
    return customer_id


def test_a_crash_between_the_issuer_and_our_record_still_pays_once(
    shop: Factory, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = put("SO-2")
    deliver("SO-2", DAY_LATE)
    real_record = service._record
    calls = {"n": 0}

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker killed after the issuer answered")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(service, "_record", crash_once)
    with pytest.raises(RuntimeError):
        handlers.on_order_status_changed(delivered_event(order_id, "SO-2"), "k")
    assert (count(db, IssuedCoupon), count(db, WalletEntry)) == (1, 0), "issued there, not yet recorded here"
    handlers.on_order_status_changed(delivered_event(order_id, "SO-2"), "k")  # the outbox delivers again
    handlers.on_order_status_changed(delivered_event(order_id, "SO-2"), "k")
    assert (count(db, IssuedCoupon), count(db, WalletEntry)) == (1, 1)
    with db.read() as uow:
        ours = uow.session.scalar(select(WalletEntry.code))
        theirs = uow.session.scalar(select(IssuedCoupon.code))
    assert ours == theirs, "the retry recorded the coupon the issuer had already issued"
    assert len(outbox_rows(db, "wallet.coupon_issued")) == 1


def test_an_issuer_whose_answer_is_lost_is_retried_under_the_same_key(shop: Factory, db: Database) -> None:
    order_id = put("SO-3")
    deliver("SO-3", DAY_LATE)
    flaky = SimulatedIssuer(db, failure_rate=1.0)  # takes the request, then the answer is lost
    flaky_draws = iter([0.9, 0.0])  # first: after it took it; then: a clean answer

    class Draws:
        def random(self) -> float:
            return next(flaky_draws, 0.99)

    flaky._random = Draws()  # type: ignore[assignment]
    flaky.failure_rate = 0.95
    use_issuer(db, flaky)
    with pytest.raises(IssuerUnavailable):
        service.compensate_late_delivery(db, order_id)
    assert (count(db, IssuedCoupon), count(db, WalletEntry)) == (1, 0)
    flaky.failure_rate = 0.0
    result = service.compensate_late_delivery(db, order_id)
    assert result.outcome == "issued"
    assert (count(db, IssuedCoupon), count(db, WalletEntry)) == (1, 1)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([{"line_no": 1, "sku": "SKU-2", "quantity": 1, "unit_price": "59.90"}], Decimal("3.00")),
        ([{"line_no": 1, "sku": "SKU-1", "quantity": 5, "unit_price": "199.00"}], Decimal("20.00")),
    ],
)
def test_the_coupon_is_clamped_to_3_and_20(
    shop: Factory, db: Database, lines: list[dict[str, Any]], expected: Decimal
) -> None:
    order_id = put("SO-4", lines=lines)
    deliver("SO-4", DAY_LATE)
    result = service.compensate_late_delivery(db, order_id)
    assert result.entry is not None and result.entry.value == expected


def test_on_time_less_than_a_day_late_pre_orders_and_the_buyers_doing_earn_nothing(shop: Factory, db: Database) -> None:
    cases = {
        "SO-5": (None, PROMISE_MINUTES - 60, "not delivered after its promise"),
        "SO-6": (None, PROMISE_MINUTES + 23 * 60, "not late enough"),
        "SO-7": (["preorder"], DAY_LATE, "pre-order"),
        "SO-8": (["buyer_delay"], DAY_LATE, "buyer"),
    }
    for number, (tags, minutes, why) in cases.items():
        order_id = put(number, tags=tags)
        deliver(number, minutes)
        result = service.compensate_late_delivery(db, order_id)
        assert result.outcome == "none", number
        assert why in result.reason, (number, result.reason)
    assert count(db, WalletEntry) == 0 and count(db, IssuedCoupon) == 0


def test_a_declared_force_majeure_in_the_region_excuses_the_delay(shop: Factory, db: Database) -> None:
    storm = ForceMajeureIn(
        region="上海", starts_at=T0, ends_at=T0 + timedelta(days=2), reason="台风「贝碧嘉」登陆，全市停运"
    )
    with pytest.raises(Forbidden):
        service.declare_force_majeure(db, storm, AGENT)
    with pytest.raises(Invalid):
        service.declare_force_majeure(db, storm.model_copy(update={"ends_at": T0}), ADMIN)
    service.declare_force_majeure(db, storm, ADMIN)
    order_id = put("SO-9")
    deliver("SO-9", DAY_LATE)
    result = service.compensate_late_delivery(db, order_id)
    assert (result.outcome, count(db, WalletEntry)) == ("none", 0)
    assert "force majeure" in result.reason
    assert [p.region for p in service.force_majeure_periods(db)] == ["上海"]


def test_through_the_outbox_the_customer_gets_one_coupon_and_one_notice(
    shop: Factory, db: Database, monkeypatch: pytest.MonkeyPatch, no_outbox_kick: None
) -> None:
    monkeypatch.setattr(outbox, "_handlers", {})
    monkeypatch.setattr(handlers, "_registered", False)
    monkeypatch.setattr(notification_handlers, "_registered", False)
    handlers.register()
    notification_handlers.register()
    put("SO-10")
    deliver("SO-10", DAY_LATE)
    for _ in range(3):
        outbox.drain(db)
    assert count(db, WalletEntry) == 1
    with db.read() as uow:
        notices = list(uow.session.scalars(select(InboxMessage).where(InboxMessage.topic == "wallet.coupon_issued")))
    assert len(notices) == 1
    assert "SO-10" in notices[0].subject and "¥19.90" in notices[0].subject
    assert notices[0].link == "/wallet"


def test_an_agent_offers_a_coupon_within_the_limit_once_per_ticket(shop: Factory, db: Database) -> None:
    put("SO-11")
    offer = OfferIn(order_number="SO-11", ticket_number="TK1", amount=Decimal("15.00"), reason="快递员态度不好，致歉")
    entry = service.offer_coupon(db, offer, AGENT)
    assert (entry.value, entry.source_kind, entry.source_ref, entry.trigger) == (
        Decimal("15.00"),
        "person",
        "agent.wang",
        "agent_offer",
    )
    with pytest.raises(Conflict) as again:
        service.offer_coupon(db, offer.model_copy(update={"amount": Decimal("5")}), AGENT)
    assert again.value.details["key"] == "wallet.already_offered"
    with pytest.raises(Invalid) as over:
        service.offer_coupon(db, offer.model_copy(update={"ticket_number": "TK2", "amount": Decimal("20.01")}), AGENT)
    assert over.value.details["limit"] == "20"
    customer = Principal(user_id=9, username="c1", role=Role.CUSTOMER, customer_id=_customer(db))
    with pytest.raises(Forbidden):
        service.offer_coupon(db, offer.model_copy(update={"ticket_number": "TK3"}), customer)
    with pytest.raises(NotFound):
        service.offer_coupon(db, offer.model_copy(update={"order_number": "SO-NONE"}), AGENT)
    assert count(db, WalletEntry) == 1


def test_a_customer_sees_only_their_own_wallet(shop: Factory, db: Database) -> None:
    put("SO-12")
    put("SO-13", customer="C2")
    deliver("SO-12", DAY_LATE)
    service.compensate_late_delivery(db, _order_id(db, "SO-12"))
    mine = Principal(user_id=9, username="c1", role=Role.CUSTOMER, customer_id=_customer(db))
    wallet = service.wallet_of(db, _customer(db), mine)
    assert wallet.usable_total == Decimal("19.90")
    other = orders.customer_id_for(db, "C2")
    assert other is not None
    with pytest.raises(NotFound):
        service.wallet_of(db, other, mine)
    merchant = Principal(user_id=3, username="m", role=Role.MERCHANT, merchant_id=1)
    with pytest.raises(Forbidden):
        service.wallet_of(db, other, merchant)


def _order_id(db: Database, number: str) -> int:
    with db.read() as uow:
        order_id = orders.order_id_in(uow.session, number)
    assert order_id is not None
    return order_id


def test_help_states_the_compensation_the_policies_pay_and_drops_what_is_switched_off(db: Database) -> None:
    from aftersales.knowledge import service as knowledge
    from aftersales.worker import wiring

    from .test_help_figures import FIGURE

    spec = next(s for s in knowledge.read_article_files() if s.slug == "late-delivery-compensation")
    written = re.sub(r"\{\{[^}]*\}\}", " ", f"{spec.content.body_zh}\n{spec.content.body_en}")
    assert FIGURE.findall(written) == [], "the article writes no figure of its own"
    rules.load_defaults(db)
    knowledge.load_articles(db)
    wiring.register_handlers()
    article = knowledge.get(db, "late-delivery-compensation")
    assert "1 天及以上" in article.body_zh and "5% 的优惠券（最低 ¥3，最高 ¥20），有效期 30 天" in article.body_zh
    assert "超时 10 分钟及以上 ¥4、超时 20 分钟及以上 ¥6、超时 30 分钟及以上 ¥13" in article.body_zh
    assert "a coupon of 5% of what you paid (at least ¥3, at most ¥20)" in article.body_en
    assert "{{" not in article.body_zh + article.body_en
    parcel = rules.get_policy(db, "late_parcel_one_day")
    rules.update_policy(db, parcel.key, parcel.definition, False, parcel.priority, ADMIN)
    switched_off = knowledge.get(db, "late-delivery-compensation")
    assert "目前包裹超时不自动赔付" in switched_off.body_zh and "5%" not in switched_off.body_zh
