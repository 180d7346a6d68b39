"""Refunded and partially refunded orders, tax within the total, shipments' info-received and
returned states, and order numbers as shops write them: the pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from aftersales.orders.domain import (
    ORDER_TRANSITIONS,
    LogisticsNode,
    NodeEvent,
    OrderStatus,
    ShipmentStatus,
    order_number_problem,
    order_status_after_shipments,
    paid_shares,
    payable_total,
    refunds_problem,
    resolve_reported_status,
    shipment_state,
    shipped_from,
    status_with_refunds,
)
from aftersales.orders.schemas import OrderIn

S = OrderStatus
D = Decimal
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("current", [S.PAID, S.FULFILLING, S.SHIPPED, S.DELIVERED])
def test_a_paid_order_may_be_refunded_in_part_or_in_full(current: OrderStatus) -> None:
    assert {S.PARTIALLY_REFUNDED, S.REFUNDED} <= ORDER_TRANSITIONS[current]


def test_an_unpaid_order_cannot_be_refunded() -> None:
    assert S.REFUNDED not in ORDER_TRANSITIONS[S.CREATED]
    assert S.PARTIALLY_REFUNDED not in ORDER_TRANSITIONS[S.CREATED]


def test_a_partial_refund_may_become_full_and_a_full_one_is_only_cancelled_after() -> None:
    assert ORDER_TRANSITIONS[S.PARTIALLY_REFUNDED] == {S.REFUNDED, S.CANCELLED}
    assert ORDER_TRANSITIONS[S.REFUNDED] == {S.CANCELLED}


@pytest.mark.parametrize(
    ("current", "reported", "kept"),
    [
        (S.REFUNDED, S.PAID, S.REFUNDED),  # a lagging feed after the refund
        (S.PARTIALLY_REFUNDED, S.SHIPPED, S.PARTIALLY_REFUNDED),
        (S.COMPLETED, S.REFUNDED, S.COMPLETED),  # the money is on the order; completed stays
        (S.CANCELLED, S.REFUNDED, S.CANCELLED),
        (S.SHIPPED, S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED),
        (S.PARTIALLY_REFUNDED, S.REFUNDED, S.REFUNDED),
        (S.REFUNDED, S.CANCELLED, S.CANCELLED),
    ],
)
def test_reported_refund_states_resolve(current: OrderStatus, reported: OrderStatus, kept: OrderStatus) -> None:
    assert resolve_reported_status(current, reported) is kept


@pytest.mark.parametrize(
    ("reported", "refunded", "payable", "expected"),
    [
        (S.PAID, D("0"), D("100"), S.PAID),
        (S.PAID, D("30.00"), D("100.00"), S.PARTIALLY_REFUNDED),
        (S.SHIPPED, D("100.00"), D("100.00"), S.REFUNDED),
        (S.REFUNDED, D("40.00"), D("100.00"), S.REFUNDED),  # the shop says all of it
        (S.CREATED, D("10.00"), D("100.00"), S.CREATED),
        (S.CANCELLED, D("100.00"), D("100.00"), S.CANCELLED),
        (S.COMPLETED, D("10.00"), D("100.00"), S.COMPLETED),
    ],
)
def test_status_with_refunds(reported: OrderStatus, refunded: D, payable: D, expected: OrderStatus) -> None:
    assert status_with_refunds(reported, refunded, payable) is expected


def test_refunds_above_the_payable_total_are_refused() -> None:
    assert refunds_problem(D("100.01"), D("100.00")) is not None
    assert refunds_problem(D("100.00"), D("100.00")) is None


def test_tax_is_added_only_when_prices_exclude_it() -> None:
    assert payable_total(D("100"), D("10"), D("5"), D("8.50"), taxes_included=False) == D("113.50")
    assert payable_total(D("100"), D("10"), D("5"), D("8.50"), taxes_included=True) == D("105")


def test_added_tax_is_shared_over_the_lines_to_the_cent() -> None:
    shares = paid_shares([D("10.00"), D("20.00")], D("0"), D("0"), "USD", tax_added=D("1.01"))
    assert [s.tax for s in shares] == [D("0.34"), D("0.67")]
    assert sum(s.paid for s in shares) == D("31.01")


def test_info_received_is_not_yet_shipped() -> None:
    status, _ = shipment_state([NodeEvent(LogisticsNode.INFO_RECEIVED, T0)])
    assert status is ShipmentStatus.INFO_RECEIVED
    assert order_status_after_shipments(S.PAID, [ShipmentStatus.INFO_RECEIVED]) is S.PAID
    assert shipped_from([NodeEvent(LogisticsNode.INFO_RECEIVED, T0)], None) is None


def test_a_returned_parcel_ends_returned_unless_it_was_delivered() -> None:
    events = [NodeEvent(LogisticsNode.PICKED_UP, T0), NodeEvent(LogisticsNode.RETURNED, T0 + timedelta(days=3))]
    assert shipment_state(events)[0] is ShipmentStatus.RETURNED
    assert order_status_after_shipments(S.PAID, [ShipmentStatus.RETURNED]) is S.SHIPPED


def test_logistics_does_not_move_a_refunded_order() -> None:
    assert order_status_after_shipments(S.REFUNDED, [ShipmentStatus.DELIVERED]) is S.REFUNDED
    assert order_status_after_shipments(S.PARTIALLY_REFUNDED, [ShipmentStatus.DELIVERED]) is S.PARTIALLY_REFUNDED


@pytest.mark.parametrize("number", ["000000123", "WC-1001", "1001", "A.B_C:9", "SO@2026!1", "订单123"])
def test_order_numbers_as_shops_write_them_are_accepted(number: str) -> None:
    assert order_number_problem(number) is None


@pytest.mark.parametrize(
    "number", ["", "#1001", "2024/0001", "10 01", "10\t01", "10\x0001", "a" * 65, "x?y", "50%", "-1", "a\\b"]
)
def test_order_numbers_that_would_break_an_address_are_refused(number: str) -> None:
    assert order_number_problem(number) is not None


def _order(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "number": "000000123",
        "version": 1,
        "updated_at": T0,
        "merchant_code": "m1",
        "status": "paid",
        "currency": "USD",
        "placed_at": T0,
        "customer": {"external_id": "c1", "name": "Ann"},
        "shipping_address": {"name": "Ann", "phone": "", "detail": "1 Main St"},
        "lines": [{"line_no": 1, "sku": "S1", "quantity": 2, "unit_price": "10.00"}],
        "tax_total": "1.60",
        "taxes_included": False,
    }
    body.update(overrides)
    return body


def test_an_order_refuses_refunds_above_what_it_costs() -> None:
    refund = {"reference": "r1", "amount": "21.61", "refunded_at": T0}
    with pytest.raises(ValidationError, match="refunds"):
        OrderIn.model_validate(_order(refunds=[refund]))
    OrderIn.model_validate(_order(refunds=[{**refund, "amount": "21.60"}]))


def test_an_order_refuses_a_refund_of_a_line_it_does_not_have() -> None:
    refund = {"reference": "r1", "amount": "5", "refunded_at": T0, "lines": [{"line_no": 2, "quantity": 1}]}
    with pytest.raises(ValidationError, match="line"):
        OrderIn.model_validate(_order(refunds=[refund]))


def test_an_order_number_with_whitespace_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="number"):
        OrderIn.model_validate(_order(number="10 01"))
