"""Saleor: the order webhooks (ORDER_CREATED, ORDER_UPDATED, ORDER_FULLY_PAID, ORDER_REFUNDED,
ORDER_CANCELLED, ORDER_FULFILLED…), whose payload is what the webhook's subscription asks for.
docs/integrations.md gives the subscription to paste; this reads its answer, {"order": {…}}
(possibly under "data" or "event"), and a list of them.

Times carry their offset; one without is UTC. Amounts are GraphQL floats, read from the JSON text
as exact decimals. Prices are gross (tax included): the order's tax is shown, not added, and
whatever the lines and shipping exceed the total by is the order's discount. totalRefunded is
recorded as one refund that grows."""

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

PLATFORM = "saleor"

STATUS: dict[str, OrderStatus] = {
    "DRAFT": OrderStatus.CREATED,
    "UNCONFIRMED": OrderStatus.CREATED,
    "UNFULFILLED": OrderStatus.PAID,  # when charged in full; else created (below)
    "PARTIALLY_FULFILLED": OrderStatus.SHIPPED,
    "FULFILLED": OrderStatus.SHIPPED,
    "PARTIALLY_RETURNED": OrderStatus.PARTIALLY_REFUNDED,
    "RETURNED": OrderStatus.REFUNDED,
    "CANCELED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.CANCELLED,  # an unpaid checkout order that lapsed
}
CHARGED = frozenset({"FULL", "OVERCHARGED"})


def status_of(order: Mapping[str, Any]) -> OrderStatus:
    raw = text(order.get("status"), "status").upper()
    if raw not in STATUS:
        raise MappingError("status", f"'{raw}' is not one of {', '.join(STATUS)}")
    status = STATUS[raw]
    if status is OrderStatus.PAID and text(order.get("chargeStatus")).upper() not in CHARGED:
        return OrderStatus.CREATED
    return status


def read(payload: Any, ctx: Context) -> list[Mapped]:
    if isinstance(payload, list):
        return [m for i, p in enumerate(payload) for m in _one(obj(p, f"[{i}]"), ctx, f"[{i}].")]
    return _one(obj(payload, "body"), ctx, "")


def _one(body: Mapping[str, Any], ctx: Context, at: str) -> list[Mapped]:
    for wrapper in ("data", "event"):
        if isinstance(body.get(wrapper), Mapping):
            return _one(body[wrapper], ctx, f"{at}{wrapper}.")
    if isinstance(body.get("order"), Mapping):
        return [_order(body["order"], ctx, f"{at}order.")]
    if "lines" in body and "number" in body:
        return [_order(body, ctx, at)]
    if "order" in body or "transaction" in body or "fulfillment" in body:
        raise MappingError(at + "order", "the payload carries no order; add the order to the webhook's subscription")
    raise MappingError(at + "order", "not a Saleor order payload (no order with number and lines)")


def _money(value: Any, name: str, cur: str, part: str = "gross") -> Decimal:
    """Saleor's TaxedMoney {"gross": {"amount": …}} or Money {"amount": …}."""
    if value is None:
        return Decimal(0)
    money = obj(value, name)
    if part in money:
        money = obj(money[part], f"{name}.{part}")
    return amount(money.get("amount"), f"{name}.amount", cur)


def _order(order: Mapping[str, Any], ctx: Context, at: str) -> Mapped:
    zone = ctx.zone
    shop_id = ident(need(order, "id", at), at + "id")
    total = obj(need(order, "total", at), at + "total")
    gross = obj(total.get("gross") or {}, at + "total.gross")
    cur = currency(gross.get("currency") or order.get("currency"), at + "total.gross.currency")
    status = status_of(order)
    lines: list[dict[str, Any]] = []
    for i, item in enumerate(items(need(order, "lines", at), at + "lines")):
        item = obj(item, f"{at}lines[{i}]")
        where = f"{at}lines[{i}]."
        name = " ".join(x for x in (text(item.get("productName")), text(item.get("variantName"))) if x)
        lines.append(
            {
                "line_no": i + 1,
                "sku": code(text(item.get("productSku"), where + "productSku"), f"line-{i + 1}"),
                "quantity": quantity(item.get("quantity"), where + "quantity"),
                "unit_price": _money(need(item, "unitPrice", where), where + "unitPrice", cur),
                "name": name[:200],
            }
        )
    goods = sum((Decimal(line["unit_price"]) * int(line["quantity"]) for line in lines), Decimal(0))
    shipping = _money(order.get("shippingPrice"), at + "shippingPrice", cur)
    stated = amount(gross.get("amount"), at + "total.gross.amount", cur)
    discount = goods + shipping - stated
    if discount < 0:
        raise MappingError(
            at + "total.gross.amount", f"the order says {stated}, more than its lines and shipping ({goods + shipping})"
        )
    tax = _money(total.get("tax"), at + "total.tax", cur, part="")
    placed = moment(need(order, "created", at), at + "created", zone)
    updated = maybe_moment(order.get("updatedAt"), at + "updatedAt", zone) or placed
    user = obj(order.get("user") or {}, at + "user")
    email = text(order.get("userEmail") or user.get("email"), at + "userEmail", 200)
    person = joined(user, "firstName", "lastName") or email or f"Saleor customer {shop_id}"
    address = obj(order.get("shippingAddress") or order.get("billingAddress") or {}, at + "shippingAddress")
    country = obj(address.get("country") or {}, at + "shippingAddress.country")
    number = text(need(order, "number", at), at + "number")
    refunded = _money(order.get("totalRefunded"), at + "totalRefunded", cur, part="")
    refunds = (
        [{"reference": f"{PLATFORM}:{number}:refunded", "amount": refunded, "refunded_at": updated}] if refunded else []
    )
    charged = _money(order.get("totalCharged"), at + "totalCharged", cur, part="")
    paid = status not in (OrderStatus.CREATED, OrderStatus.CANCELLED)
    payments = (
        [
            {
                "reference": code(f"{PLATFORM}:{number}", PLATFORM),
                "method": PLATFORM,
                "amount": charged or stated,
                "paid_at": placed,
            }
        ]
        if paid
        else []
    )
    shipments = []
    for i, f in enumerate(items(order.get("fulfillments"), at + "fulfillments")):
        f = obj(f, f"{at}fulfillments[{i}]")
        if f.get("trackingNumber") and text(f.get("status")).upper() not in ("CANCELED", "REFUNDED"):
            shipments.append(
                {
                    "carrier": code(text(order.get("shippingMethodName")), "unknown")[:32],
                    "tracking_number": code(text(f.get("trackingNumber")), "none"),
                    "shipped_at": maybe_moment(f.get("created"), f"{at}fulfillments[{i}].created", zone),
                }
            )
    return build_order(
        {
            "number": ctx.number_prefix + number,
            "version": 1,
            "updated_at": updated,
            "merchant_code": ctx.merchant_code,
            "status": status,
            "currency": cur,
            "placed_at": placed,
            "paid_at": placed if paid else None,
            "customer": {
                "external_id": customer_id(PLATFORM, ctx.merchant_code, user.get("id"), email, number),
                "name": person[:120],
                "phone": phone(address.get("phone")),
                "email": email,
            },
            "shipping_address": {
                "name": (joined(address, "firstName", "lastName") or person)[:120],
                "phone": phone(address.get("phone")),
                "region": " ".join(x for x in (text(country.get("code")), joined(address, "countryArea", "city")) if x)[
                    :200
                ],
                "detail": joined(address, "streetAddress1", "streetAddress2", "postalCode") or "(no shipping address)",
            },
            "lines": lines,
            "shipping_fee": shipping,
            "discount_total": discount,
            "tax_total": tax,
            "taxes_included": True,
            "refunds": refunds,
            "external_ref": f"{PLATFORM}:{shop_id}"[:80],
            "payments": payments,
            "shipments": shipments,
            "note": text(order.get("customerNote"), at + "customerNote", 1000),
        },
        at.rstrip(".") or "order",
    )
