"""WooCommerce: the order webhook body (order.created / order.updated) and the REST API v3 order,
one or a list.

Times: the *_gmt fields are UTC without a zone and are preferred; the others are in the site's
own zone (Context.zone, UTC unless the integration says). Amounts are strings; line subtotals
exclude tax, which the order adds (total = lines − discount + shipping + total_tax). Refunds are
listed on the order with their total (negative) but without a date: they are dated by the
order's last change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aftersales.integrations.formats.common import (
    Context,
    Mapped,
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
    need,
    obj,
    phone,
    quantity,
    text,
)
from aftersales.kit.money import quantum
from aftersales.orders.domain import OrderStatus

PLATFORM = "woocommerce"

STATUS: dict[str, OrderStatus] = {
    "pending": OrderStatus.CREATED,  # pending payment
    "on-hold": OrderStatus.CREATED,  # awaiting a payment to be confirmed (bank transfer)
    "checkout-draft": OrderStatus.CREATED,
    "processing": OrderStatus.PAID,  # paid, to be fulfilled
    "completed": OrderStatus.COMPLETED,  # fulfilled, nothing more to do
    "cancelled": OrderStatus.CANCELLED,
    "failed": OrderStatus.CANCELLED,  # the payment failed or was declined
    "trash": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
}


def status_of(order: Mapping[str, Any]) -> OrderStatus:
    status = text(order.get("status"), "status")
    if status not in STATUS:
        raise MappingError("status", f"'{status}' is not one of {', '.join(STATUS)}")
    return STATUS[status]


def read(payload: Any, ctx: Context) -> list[Mapped]:
    if isinstance(payload, list):
        return [_order(obj(o, f"[{i}]"), ctx, f"[{i}].") for i, o in enumerate(payload)]
    body = obj(payload, "body")
    if "line_items" in body and "status" in body:
        return [_order(body, ctx, "")]
    if "amount" in body and ("refunded_by" in body or "refunded_payment" in body):
        raise MappingError(
            "amount", "a refund on its own is not an order (it does not name its order); send the order instead"
        )
    raise MappingError("body", "not a WooCommerce order (no status and line_items)")


def _time(order: Mapping[str, Any], key: str, at: str, ctx: Context) -> datetime | None:
    gmt = maybe_moment(order.get(key + "_gmt"), at + key + "_gmt", UTC)
    return gmt or maybe_moment(order.get(key), at + key, ctx.zone)


def _order(order: Mapping[str, Any], ctx: Context, at: str) -> Mapped:
    shop_id = ident(need(order, "id", at), at + "id")
    cur = currency(order.get("currency"), at + "currency")
    status = status_of(order)
    lines: list[dict[str, Any]] = []
    for i, item in enumerate(items(need(order, "line_items", at), at + "line_items")):
        item = obj(item, f"{at}line_items[{i}]")
        where = f"{at}line_items[{i}]."
        units = quantity(item.get("quantity"), where + "quantity")
        subtotal = amount(item.get("subtotal"), where + "subtotal", cur)
        unit = subtotal / units
        if unit != unit.quantize(quantum(cur)):
            raise MappingError(where + "subtotal", f"{subtotal} is not a whole price for {units} units")
        variation = item.get("variation_id") or item.get("product_id") or item.get("id")
        lines.append(
            {
                "line_no": i + 1,
                "sku": code(text(item.get("sku"), where + "sku"), f"product-{variation}"),
                "quantity": units,
                "unit_price": unit.quantize(quantum(cur)),
                "name": text(item.get("name"), where + "name", 200),
            }
        )
    goods = sum((Decimal(line["unit_price"]) * int(line["quantity"]) for line in lines), Decimal(0))
    shipping = amount(order.get("shipping_total"), at + "shipping_total", cur, default=Decimal(0))
    fees = sum(
        (
            amount(obj(f, f"{at}fee_lines[{i}]").get("total"), f"{at}fee_lines[{i}].total", cur)
            for i, f in enumerate(items(order.get("fee_lines"), at + "fee_lines"))
        ),
        Decimal(0),
    )
    discount = amount(order.get("discount_total"), at + "discount_total", cur, default=Decimal(0))
    tax = amount(order.get("total_tax"), at + "total_tax", cur, default=Decimal(0))
    stated = amount(need(order, "total", at), at + "total", cur)
    check_total(stated, goods + shipping + fees - discount + tax, at + "total")
    placed = _time(order, "date_created", at, ctx)
    if placed is None:
        raise MappingError(at + "date_created_gmt", "missing")
    updated = _time(order, "date_modified", at, ctx) or placed
    paid_at = _time(order, "date_paid", at, ctx)
    billing = obj(order.get("billing") or {}, at + "billing")
    shipping_to = obj(order.get("shipping") or {}, at + "shipping")
    if not joined(shipping_to, "address_1"):
        shipping_to = billing
    email = text(billing.get("email"), at + "billing.email", 200)
    person = joined(billing, "first_name", "last_name") or email or f"WooCommerce customer {shop_id}"
    refunds = []
    for i, r in enumerate(items(order.get("refunds"), at + "refunds")):
        r = obj(r, f"{at}refunds[{i}]")
        given = abs(amount(r.get("total"), f"{at}refunds[{i}].total", cur))
        if given > 0:
            refunds.append(
                build_refund(
                    {
                        "reference": f"{PLATFORM}:refund:{ident(need(r, 'id', f'{at}refunds[{i}].'), at + 'id')}",
                        "amount": given,
                        "refunded_at": updated,
                        "reason": text(r.get("reason"), f"{at}refunds[{i}].reason"),
                    },
                    f"{at}refunds[{i}]",
                )
            )
    payments = []
    if paid_at is not None and status is not OrderStatus.CANCELLED:
        payments.append(
            {
                "reference": code(f"{PLATFORM}:{shop_id}", PLATFORM),
                "method": code(text(order.get("payment_method")), PLATFORM)[:24],
                "amount": stated,
                "paid_at": paid_at,
            }
        )
    number = text(order.get("number") or shop_id, at + "number")
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
                "external_id": customer_id(PLATFORM, ctx.merchant_code, order.get("customer_id"), email, shop_id),
                "name": person[:120],
                "phone": phone(billing.get("phone")),
                "email": email,
            },
            "shipping_address": {
                "name": (joined(shipping_to, "first_name", "last_name") or person)[:120],
                "phone": phone(shipping_to.get("phone") or billing.get("phone")),
                "region": joined(shipping_to, "country", "state", "city", limit=200),
                "detail": joined(shipping_to, "address_1", "address_2", "postcode") or "(no shipping address)",
            },
            "lines": lines,
            "shipping_fee": shipping + fees,
            "discount_total": discount,
            "tax_total": tax,
            "taxes_included": False,
            "refunds": refunds,
            "external_ref": f"{PLATFORM}:{shop_id}",
            "payments": payments,
            "note": text(order.get("customer_note"), at + "customer_note", 1000),
        },
        at.rstrip(".") or "order",
    )
