"""BigCommerce: the v2 order (GET /v2/orders/{id}, with its products and shipping addresses, which
the v2 API serves apart, saved into the order as lists) and the v3 webhook callback
(store/order/…), which carries only the order's id: the order must then be fetched
(integrations.fetch).

Times are RFC 2822 with their offset ("Tue, 05 Mar 2019 21:39:28 +0000"); the callback's
created_at is Unix seconds. Amounts are strings in currency_code. Prices are taken without tax,
which the order adds (total_inc_tax); handling and gift wrapping count with shipping. The order's
refunded_amount is recorded as one refund that grows with each refund."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aftersales.integrations.formats.common import (
    Context,
    Mapped,
    MappingError,
    OrderCallback,
    amount,
    build_order,
    check_total,
    code,
    currency,
    customer_id,
    ident,
    items,
    joined,
    maybe_moment,
    moment,
    need,
    obj,
    phone,
    quantity,
    text,
)
from aftersales.orders.domain import OrderStatus

PLATFORM = "bigcommerce"

# status_id → ours (the labels, "Awaiting Fulfillment"…, may be renamed by the store; the ids not).
STATUS: dict[int, OrderStatus] = {
    0: OrderStatus.CREATED,  # Incomplete: checkout not finished
    1: OrderStatus.CREATED,  # Pending: started, no payment yet
    2: OrderStatus.SHIPPED,  # Shipped
    3: OrderStatus.SHIPPED,  # Partially Shipped
    4: OrderStatus.REFUNDED,  # Refunded
    5: OrderStatus.CANCELLED,  # Cancelled
    6: OrderStatus.CANCELLED,  # Declined: the payment was declined
    7: OrderStatus.CREATED,  # Awaiting Payment
    8: OrderStatus.FULFILLING,  # Awaiting Pickup: packed, waiting for the buyer
    9: OrderStatus.FULFILLING,  # Awaiting Shipment: packed, waiting for the carrier
    10: OrderStatus.COMPLETED,  # Completed
    11: OrderStatus.PAID,  # Awaiting Fulfillment: paid
    12: OrderStatus.CREATED,  # Manual Verification Required: the payment is not confirmed yet
    13: OrderStatus.PAID,  # Disputed: paid, the buyer disputes the charge
    14: OrderStatus.PARTIALLY_REFUNDED,  # Partially Refunded
}


def status_of(order: Mapping[str, Any]) -> OrderStatus:
    raw = order.get("status_id")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit() or int(raw) not in STATUS:
        raise MappingError("status_id", f"{raw!r} is not one of {', '.join(map(str, STATUS))}")
    return STATUS[int(raw)]


def read(payload: Any, ctx: Context) -> list[Mapped]:
    if isinstance(payload, list):
        return [_order(obj(o, f"[{i}]"), ctx, f"[{i}].") for i, o in enumerate(payload)]
    body = obj(payload, "body")
    if "scope" in body and "data" in body:
        return [callback(body)]
    if "status_id" in body:
        return [_order(body, ctx, "")]
    raise MappingError("body", "not a BigCommerce order (no status_id) nor a webhook callback (no scope and data)")


def callback(body: Mapping[str, Any]) -> OrderCallback:
    scope = text(need(body, "scope"), "scope")
    data = obj(body.get("data"), "data")
    if not scope.startswith("store/order/") or text(data.get("type")) not in ("order", ""):
        raise MappingError("scope", f"'{scope}' is not about an order (store/order/…)")
    order_id = ident(need(data, "id", "data."), "data.id")
    if not order_id.isdigit():
        raise MappingError("data.id", f"{order_id!r} is not an order id (a number)")
    return OrderCallback(external_ref=f"{PLATFORM}:{order_id}", order_id=order_id, scope=scope)


def _order(order: Mapping[str, Any], ctx: Context, at: str) -> Mapped:
    zone = ctx.zone
    shop_id = ident(need(order, "id", at), at + "id")
    cur = currency(order.get("currency_code") or order.get("default_currency_code"), at + "currency_code")
    status = status_of(order)
    products = order.get("products")
    if isinstance(products, Mapping):
        raise MappingError(
            at + "products",
            "the order holds a link to its products, not the products: save GET /v2/orders/{id}/products into "
            "'products' (a webhook delivery fetches them itself)",
        )
    lines: list[dict[str, Any]] = []
    for i, item in enumerate(items(products, at + "products")):
        item = obj(item, f"{at}products[{i}]")
        where = f"{at}products[{i}]."
        lines.append(
            {
                "line_no": i + 1,
                "sku": code(text(item.get("sku"), where + "sku"), f"product-{item.get('product_id', i + 1)}"),
                "quantity": quantity(item.get("quantity"), where + "quantity"),
                "unit_price": amount(item.get("price_ex_tax"), where + "price_ex_tax", cur),
                "name": text(item.get("name"), where + "name", 200),
            }
        )
    if not lines:
        raise MappingError(at + "products", "the order has no products")
    goods = sum((Decimal(line["unit_price"]) * int(line["quantity"]) for line in lines), Decimal(0))
    shipping = sum(
        (
            amount(order.get(k), at + k, cur, default=Decimal(0))
            for k in ("shipping_cost_ex_tax", "handling_cost_ex_tax", "wrapping_cost_ex_tax")
        ),
        Decimal(0),
    )
    discount = amount(order.get("discount_amount"), at + "discount_amount", cur, default=Decimal(0)) + amount(
        order.get("coupon_discount"), at + "coupon_discount", cur, default=Decimal(0)
    )
    tax = amount(order.get("total_tax"), at + "total_tax", cur, default=Decimal(0))
    stated = amount(need(order, "total_inc_tax", at), at + "total_inc_tax", cur)
    check_total(stated, goods + shipping - discount + tax, at + "total_inc_tax")
    placed = moment(need(order, "date_created", at), at + "date_created", zone)
    updated = maybe_moment(order.get("date_modified"), at + "date_modified", zone) or placed
    billing = obj(order.get("billing_address") or {}, at + "billing_address")
    addresses = (
        items(order.get("shipping_addresses"), at + "shipping_addresses")
        if isinstance(order.get("shipping_addresses"), list)
        else []
    )
    address = obj(addresses[0], at + "shipping_addresses[0]") if addresses else billing
    email = text(billing.get("email"), at + "billing_address.email", 200)
    person = joined(billing, "first_name", "last_name") or email or f"BigCommerce customer {shop_id}"
    refunded = amount(order.get("refunded_amount"), at + "refunded_amount", cur, default=Decimal(0))
    refunds = (
        [{"reference": f"{PLATFORM}:{shop_id}:refunded", "amount": refunded, "refunded_at": updated}]
        if refunded
        else []
    )
    unpaid = status in (OrderStatus.CREATED, OrderStatus.CANCELLED)
    payments = (
        []
        if unpaid
        else [
            {
                "reference": f"{PLATFORM}:{shop_id}",
                "method": code(text(order.get("payment_method")), PLATFORM)[:24],
                "amount": stated,
                "paid_at": placed,
            }
        ]
    )
    return build_order(
        {
            "number": ctx.number_prefix + shop_id,
            "version": 1,
            "updated_at": updated,
            "merchant_code": ctx.merchant_code,
            "status": status,
            "currency": cur,
            "placed_at": placed,
            "paid_at": None if unpaid else placed,
            "customer": {
                "external_id": customer_id(PLATFORM, ctx.merchant_code, order.get("customer_id"), email, shop_id),
                "name": person[:120],
                "phone": phone(billing.get("phone")),
                "email": email,
            },
            "shipping_address": {
                "name": (joined(address, "first_name", "last_name") or person)[:120],
                "phone": phone(address.get("phone")),
                "region": joined(address, "country", "state", "city", limit=200),
                "detail": joined(address, "street_1", "street_2", "zip") or "(no shipping address)",
            },
            "lines": lines,
            "shipping_fee": shipping,
            "discount_total": discount,
            "tax_total": tax,
            "taxes_included": False,
            "refunds": refunds,
            "external_ref": f"{PLATFORM}:{shop_id}",
            "payments": payments,
            "note": text(order.get("customer_message"), at + "customer_message", 1000),
        },
        at.rstrip(".") or "order",
    )
