"""Shop platforms' order payloads → our orders, without a database: every status of every
vocabulary, amounts exact (strings, JSON numbers, minor units; never a float), zone-less times read
in the zone each platform documents, partial and multiple refunds, and refusals that name the field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aftersales.integrations.formats import READERS, bigcommerce, magento2, saleor, shopify, woocommerce
from aftersales.integrations.formats.common import (
    Context,
    MappedOrder,
    MappedRefunds,
    MappingError,
    OrderCallback,
    amount,
    load_json,
    minor_units,
    moment,
)
from aftersales.orders.domain import OrderStatus
from aftersales.orders.schemas import OrderIn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "integrations"
CTX = Context("shop1")
S = OrderStatus


def fixture(name: str) -> Any:
    return load_json((FIXTURES / f"{name}.json").read_bytes())


def one_order(platform: str, payload: Any, ctx: Context = CTX) -> OrderIn:
    [mapped] = READERS[platform](payload, ctx)
    assert isinstance(mapped, MappedOrder)
    return mapped.order


# --- every status of every vocabulary -------------------------------------------------------------
@pytest.mark.parametrize(("financial", "expected"), list(shopify.FINANCIAL.items()))
def test_every_shopify_financial_status_is_mapped(financial: str, expected: OrderStatus) -> None:
    order = fixture("shopify_order_create")
    order["financial_status"] = financial
    mapped = one_order("shopify", order)
    assert mapped.status is expected
    assert (mapped.paid_at is not None) == (expected not in (S.CREATED,))


@pytest.mark.parametrize(("fulfillment", "expected"), list(shopify.FULFILLMENT.items()))
def test_every_shopify_fulfillment_status_of_a_paid_order_is_mapped(
    fulfillment: str | None, expected: OrderStatus
) -> None:
    order = fixture("shopify_order_create")
    order["fulfillment_status"] = fulfillment
    assert one_order("shopify", order).status is expected


def test_shopify_cancelled_at_wins_and_delivered_fulfillments_mean_delivered() -> None:
    order = fixture("shopify_order_updated")
    order["financial_status"] = "paid"
    order["fulfillments"][0]["shipment_status"] = "delivered"
    assert one_order("shopify", order).status is S.DELIVERED
    order["cancelled_at"] = "2026-03-05T10:00:00-05:00"
    assert one_order("shopify", order).status is S.CANCELLED


@pytest.mark.parametrize(("status", "expected"), list(woocommerce.STATUS.items()))
def test_every_woocommerce_status_is_mapped(status: str, expected: OrderStatus) -> None:
    order = fixture("woocommerce_order")
    order["status"] = status
    assert one_order("woocommerce", order).status is expected


@pytest.mark.parametrize(("state", "expected"), list(magento2.STATE.items()))
def test_every_magento_state_is_mapped(state: str, expected: OrderStatus) -> None:
    order = fixture("magento2_order")
    order["state"] = state
    assert one_order("magento2", order).status is expected


@pytest.mark.parametrize(("label", "state"), list(magento2.STATUS_LABEL.items()))
def test_every_magento_default_status_label_is_mapped_when_there_is_no_state(label: str, state: str) -> None:
    order = fixture("magento2_order")
    del order["state"]
    order["status"] = label
    assert one_order("magento2", order).status is magento2.STATE[state]


def test_a_magento_order_on_hold_unpaid_is_still_awaiting_payment() -> None:
    order = fixture("magento2_order")
    order["state"], order["total_paid"] = "holded", 0
    assert one_order("magento2", order).status is S.CREATED


@pytest.mark.parametrize(("status_id", "expected"), list(bigcommerce.STATUS.items()))
def test_every_bigcommerce_status_id_is_mapped(status_id: int, expected: OrderStatus) -> None:
    order = fixture("bigcommerce_order")
    order["status_id"] = status_id
    if expected is S.REFUNDED:
        order["refunded_amount"] = "60.5000"
    assert one_order("bigcommerce", order).status is expected


@pytest.mark.parametrize(("status", "expected"), list(saleor.STATUS.items()))
def test_every_saleor_status_is_mapped(status: str, expected: OrderStatus) -> None:
    payload = fixture("saleor_order_created")
    payload["order"]["status"] = status
    assert one_order("saleor", payload).status is expected


def test_an_unfulfilled_saleor_order_not_charged_in_full_awaits_payment() -> None:
    payload = fixture("saleor_order_created")
    payload["order"]["chargeStatus"] = "PARTIAL"
    assert one_order("saleor", payload).status is S.CREATED


@pytest.mark.parametrize(
    ("platform", "name", "field", "value"),
    [
        ("shopify", "shopify_order_create", "financial_status", "half_paid"),
        ("woocommerce", "woocommerce_order", "status", "wc-shipped"),
        ("magento2", "magento2_order", "state", "lost"),
        ("bigcommerce", "bigcommerce_order", "status_id", 99),
    ],
)
def test_a_status_outside_the_vocabulary_is_refused_naming_the_field(
    platform: str, name: str, field: str, value: object
) -> None:
    order = fixture(name)
    order[field] = value
    with pytest.raises(MappingError) as err:
        READERS[platform](order, CTX)
    assert err.value.field == field


# --- the order as mapped --------------------------------------------------------------------------
def test_a_shopify_order_maps_lines_totals_customer_address_and_payment() -> None:
    order = one_order("shopify", fixture("shopify_order_create"))
    assert order.number == "1001"  # "#1001": the "#" is the store's display prefix
    assert order.external_ref == "shopify:5001234567890"
    assert order.placed_at == datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # -05:00 honoured
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("TEE-BLK-M", 2, Decimal("19.99")),
        ("variant-2002", 1, Decimal("19.99")),  # no SKU: the variant names it
    ]
    assert (order.shipping_fee, order.discount_total, order.tax_total, order.taxes_included) == (
        Decimal("8.00"), Decimal("5.00"), Decimal("4.40"), False,
    )  # fmt: skip
    assert order.customer.external_id == "shopify:shop1:7001"
    assert (order.customer.name, order.customer.email) == ("Ann Lee", "ann.lee@example.com")
    assert order.shipping_address.detail == "1 Main St Apt 2 62701"
    assert [(p.reference, p.amount) for p in order.payments] == [("shopify:5001234567890", Decimal("67.37"))]
    assert order.tags == ["vip", "spring-sale"]


def test_a_shopify_partial_refund_keeps_its_lines_and_amount() -> None:
    order = one_order("shopify", fixture("shopify_order_updated"))
    assert order.status is S.PARTIALLY_REFUNDED
    [refund] = order.refunds
    assert (refund.reference, refund.amount, refund.reason) == (
        "shopify:refund:8001",
        Decimal("21.46"),
        "Box arrived crushed",
    )
    assert [(rl.line_no, rl.quantity) for rl in refund.lines] == [(1, 1)]
    assert [(s.carrier, s.tracking_number) for s in order.shipments] == [("UPS", "1Z999AA10123456784")]


def test_a_shopify_rest_list_yields_one_order_each() -> None:
    mapped = READERS["shopify"](fixture("shopify_rest_orders"), CTX)
    assert [m.order.number for m in mapped if isinstance(m, MappedOrder)] == ["1001", "1002"]


def test_a_lone_shopify_refund_is_attached_by_the_order_id() -> None:
    [mapped] = READERS["shopify"](fixture("shopify_refund_create"), CTX)
    assert isinstance(mapped, MappedRefunds)
    assert mapped.external_ref == "shopify:5001234567890"
    assert [(r.reference, r.amount) for r in mapped.refunds] == [("shopify:refund:8002", Decimal("10.00"))]


def test_woocommerce_multiple_refunds_are_each_kept_and_dated_by_the_orders_change() -> None:
    order = one_order("woocommerce", fixture("woocommerce_order_refunded_in_part"))
    assert [(r.reference, r.amount, r.reason) for r in order.refunds] == [
        ("woocommerce:refund:801", Decimal("5.00"), "Arrived late"),
        ("woocommerce:refund:802", Decimal("4.99"), "Mug chipped"),
    ]
    assert {r.refunded_at for r in order.refunds} == {datetime(2026, 3, 3, 8, 0, tzinfo=UTC)}
    assert order.lines[1].sku == "POS-22"  # "POS 22": whitespace is not in our codes


def test_woocommerce_prefers_gmt_times_and_reads_local_ones_in_the_sites_zone() -> None:
    order = fixture("woocommerce_order")
    assert one_order("woocommerce", order).placed_at == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    for key in list(order):
        if key.endswith("_gmt"):
            del order[key]
    berlin = Context("shop1", zone=ZoneInfo("Europe/Berlin"))
    assert one_order("woocommerce", order, berlin).placed_at == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert one_order("woocommerce", order).placed_at == datetime(2026, 3, 1, 17, 0, tzinfo=UTC)


def test_magento_zoneless_times_are_utc_and_children_of_configurables_are_not_lines() -> None:
    order = one_order("magento2", fixture("magento2_order"))
    assert order.number == "000000042"
    assert order.placed_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert [(line.sku, line.quantity) for line in order.lines] == [("SHOE-42", 1), ("SOCK-3P", 3)]
    assert order.discount_total == Decimal("4.50")  # Magento writes it negative
    assert order.shipping_address.detail == "221B Baker Street Flat 1 NW1 6XE"


def test_magento_total_refunded_is_one_refund_that_grows() -> None:
    payload = fixture("magento2_order")
    payload["total_refunded"] = Decimal("15.60")
    order = one_order("magento2", payload)
    assert [(r.reference, r.amount) for r in order.refunds] == [("magento2:42:refunded", Decimal("15.60"))]


def test_bigcommerce_order_with_four_decimal_strings_and_a_guest() -> None:
    order = one_order("bigcommerce", fixture("bigcommerce_order"))
    assert order.number == "100"
    assert order.lines[0].unit_price == Decimal("25.00")
    assert order.placed_at == datetime(2026, 3, 3, 21, 39, 28, tzinfo=UTC)
    assert order.customer.external_id.startswith("bigcommerce:shop1:guest:")
    assert order.shipping_address.detail == "500 Congress Ave Suite 3 78701"


def test_a_bigcommerce_callback_carries_only_the_id() -> None:
    [mapped] = READERS["bigcommerce"](fixture("bigcommerce_callback"), CTX)
    assert mapped == OrderCallback(external_ref="bigcommerce:100", order_id="100", scope="store/order/created")


def test_a_bigcommerce_order_with_a_link_instead_of_its_products_is_refused() -> None:
    order = fixture("bigcommerce_order")
    order["products"] = {
        "url": "https://api.bigcommerce.com/stores/abc/v2/orders/100/products",
        "resource": "/orders/100/products",
    }
    with pytest.raises(MappingError) as err:
        READERS["bigcommerce"](order, CTX)
    assert err.value.field == "products"


def test_saleor_gross_prices_include_tax_and_the_difference_is_the_discount() -> None:
    order = one_order("saleor", fixture("saleor_order_created"))
    assert (order.taxes_included, order.tax_total, order.discount_total) == (True, Decimal("18.83"), Decimal("10.00"))
    assert order.lines[0].unit_price == Decimal("120.00")
    assert order.placed_at == datetime(2026, 3, 1, 6, 0, 0, 123456, tzinfo=UTC)


def test_a_prefix_keeps_two_stores_numbers_apart() -> None:
    order = one_order("shopify", fixture("shopify_order_create"), Context("shop1", number_prefix="EU-"))
    assert order.number == "EU-1001"


# --- refusals name the field ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("platform", "name", "field"),
    [
        ("shopify", "shopify_fulfillment", "order_id"),
        ("woocommerce", "woocommerce_refund", "amount"),
    ],
)
def test_a_lone_fulfillment_or_refund_without_its_order_is_refused(platform: str, name: str, field: str) -> None:
    with pytest.raises(MappingError) as err:
        READERS[platform](fixture(name), CTX)
    assert err.value.field == field


def test_a_total_that_its_parts_do_not_add_up_to_is_refused() -> None:
    order = fixture("shopify_order_create")
    order["total_price"] = "67.38"
    with pytest.raises(MappingError, match=r"67\.38") as err:
        READERS["shopify"](order, CTX)
    assert err.value.field == "total_price"


def test_a_missing_line_field_is_named_with_its_position() -> None:
    order = fixture("woocommerce_order")
    del order["line_items"][1]["subtotal"]
    with pytest.raises(MappingError) as err:
        READERS["woocommerce"](order, CTX)
    assert err.value.field == "line_items[1].subtotal"


def test_a_refund_above_the_order_is_refused() -> None:
    order = fixture("shopify_order_updated")
    order["refunds"][0]["transactions"][0]["amount"] = "100.00"
    with pytest.raises(MappingError, match="refund"):
        READERS["shopify"](order, CTX)


# --- amounts and times ----------------------------------------------------------------------------
def test_json_numbers_are_read_as_decimals_never_floats() -> None:
    assert load_json('{"a": 0.1}')["a"] == Decimal("0.1")
    with pytest.raises(MappingError):
        load_json('{"a": NaN}')


def test_amounts_finer_than_the_currency_are_refused_not_rounded() -> None:
    assert amount("19.9900", "price", "USD") == Decimal("19.99")
    assert amount(Decimal("1500"), "price", "JPY") == Decimal("1500")
    with pytest.raises(MappingError):
        amount("19.995", "price", "USD")
    with pytest.raises(MappingError):
        amount("0.5", "price", "JPY")
    with pytest.raises(MappingError):
        amount(0.1, "price", "USD")  # a float never becomes money


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (1999, "USD", Decimal("19.99")),
        ("1999", "CNY", Decimal("19.99")),
        (1999, "JPY", Decimal("1999")),
        (-50, "EUR", Decimal("-0.50")),
    ],
)
def test_minor_units(value: object, currency: str, expected: Decimal) -> None:
    assert minor_units(value, "amount", currency) == expected


@pytest.mark.parametrize("value", [19.99, "19.99", True, "1e3"])
def test_minor_units_must_be_whole(value: object) -> None:
    with pytest.raises(MappingError):
        minor_units(value, "amount", "USD")


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2026-03-01T10:00:00-05:00", UTC, datetime(2026, 3, 1, 15, 0, tzinfo=UTC)),
        ("2026-03-01T10:00:00Z", ZoneInfo("Asia/Shanghai"), datetime(2026, 3, 1, 10, 0, tzinfo=UTC)),
        ("2026-03-01 10:00:00", ZoneInfo("Asia/Shanghai"), datetime(2026, 3, 1, 2, 0, tzinfo=UTC)),
        ("2026-03-01T10:00:00", UTC, datetime(2026, 3, 1, 10, 0, tzinfo=UTC)),
        ("Tue, 03 Mar 2026 21:39:28 +0800", UTC, datetime(2026, 3, 3, 13, 39, 28, tzinfo=UTC)),
        (1772573968, UTC, datetime(2026, 3, 3, 21, 39, 28, tzinfo=UTC)),
    ],
)
def test_times_honour_offsets_and_read_zone_less_ones_in_the_documented_zone(
    value: object, zone: ZoneInfo, expected: datetime
) -> None:
    assert moment(value, "created_at", zone) == expected


@pytest.mark.parametrize("value", ["yesterday", "", None, [], True])
def test_a_time_that_is_not_one_is_refused(value: object) -> None:
    with pytest.raises(MappingError):
        moment(value, "created_at", UTC)


@pytest.mark.parametrize("platform", sorted(READERS))
@pytest.mark.parametrize("payload", [[], {}, "text", 3, {"id": 1}])
def test_hostile_payloads_are_refused_with_a_mapping_error(platform: str, payload: object) -> None:
    try:
        result = READERS[platform](copy.deepcopy(payload), CTX)
    except MappingError:
        return
    assert result == []  # an empty list is an empty REST page


def test_fixtures_are_json_as_written() -> None:
    for path in FIXTURES.glob("*.json"):
        json.loads(path.read_text())


def test_control_characters_never_reach_the_order() -> None:
    order = fixture("shopify_order_create")
    order["customer"]["first_name"] = "An\x00n\x07"
    order["note"] = "ring\x00 twice"
    mapped = one_order("shopify", order)
    assert mapped.customer.name == "Ann Lee" and mapped.note == "ring twice"
    order["id"] = "50\x0001"
    with pytest.raises(MappingError) as err:
        READERS["shopify"](order, CTX)
    assert err.value.field == "id"
