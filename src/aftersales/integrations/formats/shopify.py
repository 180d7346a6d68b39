"""Shopify: the orders/create and orders/updated webhook bodies and the REST Order resource (one
order, {"order": …} or {"orders": […]}), and the refunds/create webhook body (a Refund).

Times carry their offset ("2024-03-01T10:00:00-05:00"); one without is read in UTC. Amounts are
strings in the shop's currency. Statuses: financial_status × fulfillment_status, cancelled_at."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aftersales.integrations.formats.common import (
    Context,
    Mapped,
    MappedRefunds,
    MappingError,
    amount,
    build_order,
    build_refund,
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
from aftersales.orders.schemas import OrderRefundIn

PLATFORM = "shopify"

# financial_status → our status, before fulfilment is looked at.
FINANCIAL: dict[str, OrderStatus] = {
    "pending": OrderStatus.CREATED,
    "authorized": OrderStatus.PAID,  # the payment is secured, captured on fulfilment
    "partially_paid": OrderStatus.CREATED,  # not all of it paid yet
    "paid": OrderStatus.PAID,
    "partially_refunded": OrderStatus.PARTIALLY_REFUNDED,
    "refunded": OrderStatus.REFUNDED,
    "voided": OrderStatus.CANCELLED,  # the authorisation was cancelled
}
# fulfillment_status of a paid order → our status (None: not fulfilled yet).
FULFILLMENT: dict[str | None, OrderStatus] = {
    None: OrderStatus.PAID,
    "unfulfilled": OrderStatus.PAID,
    "restocked": OrderStatus.PAID,
    "partial": OrderStatus.SHIPPED,
    "fulfilled": OrderStatus.SHIPPED,
}


def status_of(order: Mapping[str, Any]) -> OrderStatus:
    if order.get("cancelled_at"):
        return OrderStatus.CANCELLED
    financial = text(order.get("financial_status"), "financial_status") or "pending"
    if financial not in FINANCIAL:
        raise MappingError("financial_status", f"'{financial}' is not one of {', '.join(FINANCIAL)}")
    status = FINANCIAL[financial]
    if status is not OrderStatus.PAID:
        return status
    fulfillment = order.get("fulfillment_status")
    if fulfillment not in FULFILLMENT:
        raise MappingError("fulfillment_status", f"'{fulfillment}' is not one of {', '.join(map(str, FULFILLMENT))}")
    status = FULFILLMENT[fulfillment]
    fulfillments = [f for f in items(order.get("fulfillments"), "fulfillments") if isinstance(f, Mapping)]
    if (
        status is OrderStatus.SHIPPED
        and fulfillment == "fulfilled"
        and fulfillments
        and all(f.get("shipment_status") == "delivered" for f in fulfillments)
    ):
        return OrderStatus.DELIVERED
    return status


def read(payload: Any, ctx: Context) -> list[Mapped]:
    if isinstance(payload, Mapping) and "orders" in payload:
        listed = items(payload["orders"], "orders")
        return [_order(obj(o, f"orders[{i}]"), ctx, f"orders[{i}].") for i, o in enumerate(listed)]
    if isinstance(payload, Mapping) and "order" in payload:
        return [_order(obj(payload["order"], "order"), ctx, "order.")]
    if isinstance(payload, Mapping) and "refund" in payload:
        return [_lone_refund(obj(payload["refund"], "refund"), "refund.")]
    body = obj(payload, "body")
    if "line_items" in body and ("financial_status" in body or "order_number" in body):
        return [_order(body, ctx, "")]
    if "order_id" in body and ("refund_line_items" in body or "transactions" in body):
        return [_lone_refund(body, "")]
    if "order_id" in body:
        kind = "fulfillment" if "tracking_number" in body or "tracking_numbers" in body else "transaction"
        raise MappingError("order_id", f"a {kind} on its own is not an order; send the order (orders/updated) instead")
    raise MappingError("body", "not a Shopify order or refund (no line_items, financial_status or refund_line_items)")


def _money_set(value: Any, name: str, code_: str) -> Decimal:
    """An amount in Shopify's "…_set" shape: {"shop_money": {"amount": "…"}}."""
    if value is None:
        return Decimal(0)
    shop = obj(obj(value, name).get("shop_money"), f"{name}.shop_money")
    return amount(shop.get("amount"), f"{name}.shop_money.amount", code_)


def _order(order: Mapping[str, Any], ctx: Context, at: str) -> Mapped:
    zone = ctx.zone
    shop_id = ident(need(order, "id", at), at + "id")
    cur = currency(order.get("currency"), at + "currency")
    number = text(order.get("name") or order.get("order_number"), at + "name").lstrip("#")
    if not number:
        raise MappingError(at + "name", "missing")
    status = status_of(order)
    lines: list[dict[str, Any]] = []
    line_nos: dict[str, int] = {}
    for i, item in enumerate(items(need(order, "line_items", at), at + "line_items")):
        item = obj(item, f"{at}line_items[{i}]")
        where = f"{at}line_items[{i}]."
        fallback = f"variant-{item.get('variant_id')}" if item.get("variant_id") else f"item-{item.get('id', i + 1)}"
        line_nos[str(item.get("id"))] = i + 1
        lines.append(
            {
                "line_no": i + 1,
                "sku": code(text(item.get("sku"), where + "sku"), fallback),
                "quantity": quantity(item.get("quantity"), where + "quantity"),
                "unit_price": amount(item.get("price"), where + "price", cur),
                "name": text(item.get("name") or item.get("title"), where + "title", 200),
            }
        )
    goods = sum((Decimal(line["unit_price"]) * int(line["quantity"]) for line in lines), Decimal(0))
    shipping = sum(
        (
            amount(obj(s, f"{at}shipping_lines[{i}]").get("price"), f"{at}shipping_lines[{i}].price", cur)
            for i, s in enumerate(items(order.get("shipping_lines"), at + "shipping_lines"))
        ),
        Decimal(0),
    )
    discount = amount(order.get("total_discounts"), at + "total_discounts", cur, default=Decimal(0))
    tax = amount(order.get("total_tax"), at + "total_tax", cur, default=Decimal(0))
    included = bool(order.get("taxes_included"))
    stated = amount(need(order, "total_price", at), at + "total_price", cur)
    check_total(stated, goods + shipping - discount + (Decimal(0) if included else tax), at + "total_price")
    placed = moment(need(order, "created_at", at), at + "created_at", zone)
    updated = maybe_moment(order.get("updated_at"), at + "updated_at", zone) or placed
    processed = maybe_moment(order.get("processed_at"), at + "processed_at", zone)
    paid_at = processed if status is not OrderStatus.CREATED else None
    customer = obj(order.get("customer") or {}, at + "customer")
    email = text(order.get("email") or customer.get("email") or order.get("contact_email"), at + "email", 200)
    address = obj(order.get("shipping_address") or order.get("billing_address") or {}, at + "shipping_address")
    person = joined(customer, "first_name", "last_name") or text(address.get("name")) or email
    person = person or f"Shopify customer {shop_id}"
    recipient = text(address.get("name")) or joined(address, "first_name", "last_name")
    refunds = []
    for i, r in enumerate(items(order.get("refunds"), at + "refunds")):
        mapped = _refund(obj(r, f"{at}refunds[{i}]"), f"{at}refunds[{i}].", line_nos, zone, cur)
        if mapped is not None:
            refunds.append(mapped)
    shipments = []
    for i, f in enumerate(items(order.get("fulfillments"), at + "fulfillments")):
        f = obj(f, f"{at}fulfillments[{i}]")
        if f.get("tracking_number") and f.get("status") not in ("cancelled", "error", "failure"):
            shipments.append(
                {
                    "carrier": code(text(f.get("tracking_company")), "unknown")[:32],
                    "tracking_number": code(text(f.get("tracking_number")), "none"),
                    "shipped_at": maybe_moment(f.get("created_at"), f"{at}fulfillments[{i}].created_at", zone),
                }
            )
    payments = []
    if paid_at is not None and status is not OrderStatus.CANCELLED:
        gateways = items(order.get("payment_gateway_names"), at + "payment_gateway_names")
        payments.append(
            {
                "reference": f"{PLATFORM}:{shop_id}",
                "method": code(text(gateways[0]) if gateways else PLATFORM, PLATFORM)[:24],
                "amount": stated,
                "paid_at": paid_at,
            }
        )
    tags = [t.strip()[:40] for t in text(order.get("tags"), at + "tags").split(",") if t.strip()][:20]
    return build_order(
        {
            "number": ctx.number_prefix + number,
            "version": 1,
            "updated_at": updated,
            "merchant_code": ctx.merchant_code,
            "status": status,
            "currency": cur,
            "placed_at": placed,
            "paid_at": paid_at,
            "customer": {
                "external_id": customer_id(PLATFORM, ctx.merchant_code, customer.get("id"), email, shop_id),
                "name": person[:120],
                "phone": phone(customer.get("phone") or order.get("phone")),
                "email": email,
            },
            "shipping_address": {
                "name": (recipient or person)[:120],
                "phone": phone(address.get("phone")),
                "region": joined(address, "country", "province", "city", limit=200),
                "detail": joined(address, "address1", "address2", "zip") or "(no shipping address)",
            },
            "lines": lines,
            "shipping_fee": shipping,
            "discount_total": discount,
            "tax_total": tax,
            "taxes_included": included,
            "refunds": refunds,
            "external_ref": f"{PLATFORM}:{shop_id}",
            "payments": payments,
            "shipments": shipments,
            "tags": tags,
            "note": text(order.get("note"), at + "note", 1000),
        },
        at.rstrip(".") or "order",
    )


def _refund_amount(refund: Mapping[str, Any], at: str, cur: str | None) -> Decimal:
    """What a refund gave back: its successful refund transactions."""
    total = Decimal(0)
    for i, t in enumerate(items(refund.get("transactions"), at + "transactions")):
        t = obj(t, f"{at}transactions[{i}]")
        if t.get("kind") == "refund" and t.get("status") in ("success", None):
            total += amount(t.get("amount"), f"{at}transactions[{i}].amount", cur or text(t.get("currency")) or "USD")
    return total


def _refund(
    refund: Mapping[str, Any], at: str, line_nos: dict[str, int], zone: Any, cur: str | None = None
) -> OrderRefundIn | None:
    money = _refund_amount(refund, at, cur)
    if money <= 0:
        return None  # a restock without money given back
    lines = []
    for i, rl in enumerate(items(refund.get("refund_line_items"), at + "refund_line_items")):
        rl = obj(rl, f"{at}refund_line_items[{i}]")
        line_no = line_nos.get(str(rl.get("line_item_id")))
        if line_no is not None:
            lines.append({"line_no": line_no, "quantity": rl.get("quantity") or 0})
    return build_refund(
        {
            "reference": f"{PLATFORM}:refund:{ident(need(refund, 'id', at), at + 'id')}",
            "amount": money,
            "refunded_at": moment(
                refund.get("processed_at") or need(refund, "created_at", at), at + "created_at", zone
            ),
            "reason": text(refund.get("note"), at + "note"),
            "lines": lines,
        },
        at.rstrip(".") or "refund",
    )


def _lone_refund(refund: Mapping[str, Any], at: str) -> Mapped:
    from datetime import UTC

    order_id = ident(need(refund, "order_id", at), at + "order_id")
    mapped = _refund(refund, at, {}, UTC)
    if mapped is None:
        raise MappingError(at + "transactions", "the refund gives no money back (no successful refund transaction)")
    return MappedRefunds(external_ref=f"{PLATFORM}:{order_id}", refunds=[mapped])
