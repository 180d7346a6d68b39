"""Magento 2 (Adobe Commerce): the REST order (GET /V1/orders/{id}) and a search result
({"items": […]}).

Times are UTC without a zone ("2024-03-01 10:00:00"), as Magento stores them. Amounts are JSON
numbers (read as exact decimals) in the order's currency (order_currency_code; the base_* fields
are the store's base currency and are not used). Prices exclude tax, which the order adds;
discount_amount is negative. The order's state (not its label, status) decides ours. Refunds:
Magento keeps credit memos apart; the order's total_refunded is recorded as one refund that grows
with each memo."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aftersales.integrations.formats.common import (
    Context,
    Mapped,
    MappingError,
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
    refunded_so_far,
    text,
)
from aftersales.orders.domain import OrderStatus

PLATFORM = "magento2"

STATE: dict[str, OrderStatus] = {
    "new": OrderStatus.CREATED,
    "pending_payment": OrderStatus.CREATED,
    "payment_review": OrderStatus.CREATED,  # the payment is checked for fraud
    "processing": OrderStatus.PAID,  # invoiced, not (all) shipped
    "complete": OrderStatus.SHIPPED,  # invoiced and shipped
    "closed": OrderStatus.REFUNDED,  # credit memo for all of it
    "canceled": OrderStatus.CANCELLED,
    "holded": OrderStatus.PAID,  # on hold; unpaid holds stay created (below)
}
# The default status labels, for an order that carries no state.
STATUS_LABEL: dict[str, str] = {"pending": "new", "fraud": "payment_review", **{s: s for s in STATE}}


def status_of(order: Mapping[str, Any]) -> OrderStatus:
    state = text(order.get("state"), "state")
    if not state:
        label = text(order.get("status"), "status")
        if label not in STATUS_LABEL:
            raise MappingError("status", f"'{label}' is not one of {', '.join(STATUS_LABEL)} (and there is no state)")
        state = STATUS_LABEL[label]
    if state not in STATE:
        raise MappingError("state", f"'{state}' is not one of {', '.join(STATE)}")
    status = STATE[state]
    if state == "holded" and not _positive(order.get("total_paid")):
        return OrderStatus.CREATED
    return status


def _positive(value: Any) -> bool:
    try:
        return value is not None and not isinstance(value, bool) and Decimal(str(value)) > 0
    except ArithmeticError:
        return False


def read(payload: Any, ctx: Context) -> list[Mapped]:
    body = obj(payload, "body")
    if "items" in body and "increment_id" not in body:
        return [_order(obj(o, f"items[{i}]"), ctx, f"items[{i}].") for i, o in enumerate(items(body["items"], "items"))]
    if "increment_id" in body:
        return [_order(body, ctx, "")]
    if "order_id" in body:
        raise MappingError("order_id", "an invoice, shipment or credit memo on its own is not an order; send the order")
    raise MappingError("body", "not a Magento order (no increment_id)")


def _order(order: Mapping[str, Any], ctx: Context, at: str) -> Mapped:
    zone = ctx.zone
    entity = ident(need(order, "entity_id", at), at + "entity_id")
    cur = currency(order.get("order_currency_code"), at + "order_currency_code")
    status = status_of(order)
    lines: list[dict[str, Any]] = []
    for i, item in enumerate(items(need(order, "items", at), at + "items")):
        item = obj(item, f"{at}items[{i}]")
        if item.get("parent_item_id"):
            continue  # a configurable's child: its parent carries the price
        where = f"{at}items[{i}]."
        lines.append(
            {
                "line_no": len(lines) + 1,
                "sku": code(text(item.get("sku"), where + "sku"), f"item-{item.get('item_id', i + 1)}"),
                "quantity": quantity(item.get("qty_ordered"), where + "qty_ordered"),
                "unit_price": amount(item.get("price"), where + "price", cur),
                "name": text(item.get("name"), where + "name", 200),
            }
        )
    goods = sum((Decimal(line["unit_price"]) * int(line["quantity"]) for line in lines), Decimal(0))
    shipping = amount(order.get("shipping_amount"), at + "shipping_amount", cur, default=Decimal(0))
    discount = -amount(order.get("discount_amount"), at + "discount_amount", cur, default=Decimal(0))
    tax = sum(
        (
            amount(order.get(k), at + k, cur, default=Decimal(0))
            for k in ("tax_amount", "discount_tax_compensation_amount", "shipping_discount_tax_compensation_amount")
        ),
        Decimal(0),
    )
    stated = amount(need(order, "grand_total", at), at + "grand_total", cur)
    check_total(stated, goods + shipping - discount + tax, at + "grand_total")
    placed = moment(need(order, "created_at", at), at + "created_at", zone)
    updated = maybe_moment(order.get("updated_at"), at + "updated_at", zone) or placed
    email = text(order.get("customer_email"), at + "customer_email", 200)
    person = joined(order, "customer_firstname", "customer_lastname") or email or f"Magento customer {entity}"
    address: Mapping[str, Any] = obj(order.get("billing_address") or {}, at + "billing_address")
    for assignment in items(obj(order.get("extension_attributes") or {}, at).get("shipping_assignments"), at):
        shipping_address = obj(obj(obj(assignment, at).get("shipping") or {}, at).get("address") or {}, at)
        if shipping_address:
            address = shipping_address
    street = address.get("street")
    street_text = " ".join(text(s) for s in street) if isinstance(street, list) else text(street)
    refunded = amount(order.get("total_refunded"), at + "total_refunded", cur, default=Decimal(0))
    refunds = refunded_so_far(f"{PLATFORM}:{entity}:refunded", refunded, updated)
    paid = amount(
        obj(order.get("payment") or {}, at).get("amount_paid"), at + "payment.amount_paid", cur, default=Decimal(0)
    )
    payments = []
    if paid > 0 and status is not OrderStatus.CANCELLED:
        method = text(obj(order.get("payment") or {}, at).get("method"))
        payments.append(
            {
                "reference": f"{PLATFORM}:{entity}",
                "method": code(method, PLATFORM)[:24],
                "amount": paid,
                "paid_at": placed,
            }
        )
    number = text(need(order, "increment_id", at), at + "increment_id")
    return build_order(
        {
            "number": ctx.number_prefix + number,
            "version": 1,
            "updated_at": updated,
            "merchant_code": ctx.merchant_code,
            "status": status,
            "currency": cur,
            "placed_at": placed,
            "paid_at": placed if payments else None,
            "customer": {
                "external_id": customer_id(
                    PLATFORM,
                    ctx.merchant_code,
                    None if order.get("customer_is_guest") else order.get("customer_id"),
                    email,
                    entity,
                ),
                "name": person[:120],
                "phone": phone(address.get("telephone")),
                "email": email,
            },
            "shipping_address": {
                "name": (joined(address, "firstname", "lastname") or person)[:120],
                "phone": phone(address.get("telephone")),
                "region": joined(address, "country_id", "region", "city", limit=200),
                "detail": " ".join(x for x in (street_text, text(address.get("postcode"))) if x)[:400]
                or "(no shipping address)",
            },
            "lines": lines,
            "shipping_fee": shipping,
            "discount_total": discount,
            "tax_total": tax,
            "taxes_included": False,
            "refunds": refunds,
            "external_ref": f"{PLATFORM}:{entity}",
            "payments": payments,
        },
        at.rstrip(".") or "order",
    )
