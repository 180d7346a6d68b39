"""Turns loaded orders into the read shapes shared by the API and the pages."""

from __future__ import annotations

from datetime import datetime

from aftersales.kit import masking
from aftersales.kit.access import Principal, Role
from aftersales.orders import domain
from aftersales.orders.models import Order, Shipment
from aftersales.orders.schemas import (
    LogisticsEventOut,
    OrderLineOut,
    OrderOut,
    OrderRefundOut,
    OrderSummary,
    PaymentOut,
    ShipmentOut,
    TimelineOut,
)
from aftersales.timeline.schemas import TimelineEntryOut


def summary_view(order: Order) -> OrderSummary:
    return OrderSummary(
        number=order.number,
        status=order.status,
        merchant_code=order.merchant.code,
        merchant_name=order.merchant.name,
        merchant_kind=order.merchant.kind,
        customer_name=order.customer.name,
        currency=order.currency,
        payable_total=order.payable_total,
        placed_at=order.placed_at,
        item_count=sum(line.quantity for line in order.lines),
    )


def shipment_view(shipment: Shipment, now: datetime) -> ShipmentOut:
    late = domain.lateness(shipment.promised_at, shipment.delivered_at, now)
    return ShipmentOut(
        id=shipment.id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=shipment.status,
        promised_at=shipment.promised_at,
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
        current_node=shipment.current_node,
        current_place=shipment.current_place,
        late=late.late,
        overdue_hours=round(late.overdue.total_seconds() / 3600, 1),
        events=[
            LogisticsEventOut.model_validate(e)
            for e in sorted(
                shipment.events, key=lambda e: (e.occurred_at, domain.NODE_RANK[domain.LogisticsNode(e.node)])
            )
        ],
    )


def order_view(order: Order, entries: list[TimelineEntryOut], now: datetime) -> OrderOut:
    shipments = [shipment_view(s, now) for s in order.shipments]
    pending = [s.promised_at for s in shipments if s.promised_at and s.delivered_at is None]
    summary = summary_view(order)
    # Field by field on purpose: OrderOut's own fields; look-alikes elsewhere build others'.
    return OrderOut(
        **summary.model_dump(),
        version=order.version,
        source_version=order.source_version,
        customer_external_id=order.customer.external_id,
        customer_phone=order.customer.phone,
        recipient_name=order.recipient_name,
        recipient_phone=order.recipient_phone,
        address_region=order.address_region,
        address_detail=order.address_detail,
        goods_total=order.goods_total,
        shipping_fee=order.shipping_fee,
        discount_total=order.discount_total,
        tax_total=order.tax_total,
        taxes_included=order.taxes_included,
        refunded_total=order.refunded_total,
        refunds=[OrderRefundOut.model_validate(r) for r in order.refunds],
        external_ref=order.external_ref,
        paid_at=order.paid_at,
        delivered_at=order.delivered_at,
        tags=list(order.tags or []),
        eta=max(pending) if pending else None,
        late=any(s.late for s in shipments),
        lines=[OrderLineOut.model_validate(line) for line in order.lines],
        payments=[PaymentOut.model_validate(p) for p in order.payments],
        shipments=shipments,
        # Field by field on purpose: TimelineOut's own fields; look-alikes elsewhere build others'.
        timeline=[
            TimelineOut(
                action=e.action,
                actor_kind=e.actor_kind,
                actor_name=e.actor_name,
                from_state=e.from_state,
                to_state=e.to_state,
                reason=e.reason,
                occurred_at=e.occurred_at,
                subject_type=e.subject_type,
            )
            for e in entries
        ],
    )


def phones_shown(order: OrderOut, viewer: Principal) -> dict[str, str]:
    """The phones an order page prints. A customer sees their own masked, as /account shows it
    (a page on a shared screen or a screenshot does not give it away); staff see what
    `as_seen_by` left them: in full for those who call or ship (customer service, the warehouse),
    masked for the rest."""
    if viewer.role is Role.CUSTOMER:
        return {
            "recipient": masking.mask_phone(order.recipient_phone),
            "customer": masking.mask_phone(order.customer_phone),
        }
    return {"recipient": order.recipient_phone, "customer": order.customer_phone}


def as_seen_by(order: OrderOut, viewer: Principal) -> OrderOut:
    """Phones and the street address as the viewer's role may see them, as tickets already do:
    the customer sees their own, merchants, arbitrators and integrations see them masked. A rider
    needs the street to deliver, not the phone: calls go through the platform's customer service."""
    if viewer.role is Role.RIDER:
        return order.model_copy(
            update={
                "customer_phone": masking.mask_phone(order.customer_phone),
                "recipient_phone": masking.mask_phone(order.recipient_phone),
            }
        )
    if viewer.role is Role.CUSTOMER or masking.contact_visibility(viewer.role) == masking.FULL:
        return order
    return order.model_copy(
        update={
            "customer_phone": masking.mask_phone(order.customer_phone),
            "recipient_phone": masking.mask_phone(order.recipient_phone),
            "address_detail": masking.MASK * 4 if order.address_detail else "",
        }
    )
