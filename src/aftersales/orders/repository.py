"""Every query of the orders context. Reads that serve a person are scoped by their principal."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, false, func, or_, select
from sqlalchemy.orm import selectinload

from aftersales.db.repository import Repository, interval_index
from aftersales.kit.access import Principal, Role
from aftersales.kit.pagination import Page, PageRequest
from aftersales.orders.models import (
    Category,
    Customer,
    LogisticsEvent,
    Merchant,
    Order,
    OrderLine,
    Payment,
    Product,
    Shipment,
    Sku,
)

# What an agent types when looking for an order number or a phone: letters, digits and dashes, with a digit.
NUMBER_LIKE = re.compile(r"(?=.*\d)[A-Za-z0-9+\-]{3,64}")


def scope_orders(stmt: Select[Any], viewer: Principal) -> Select[Any]:
    """Narrow an order query to what the viewer may see; unknown roles see nothing."""
    if viewer.is_platform_staff:
        return stmt
    if viewer.role is Role.CUSTOMER:
        if viewer.customer_id is None:
            return stmt.where(false())
        return stmt.where(Order.customer_id == viewer.customer_id)
    if viewer.role in (Role.MERCHANT, Role.WAREHOUSE):
        if viewer.merchant_id is None:
            return stmt.where(false())
        return stmt.where(Order.merchant_id == viewer.merchant_id)
    if viewer.role is Role.RIDER:
        assigned = exists().where(Shipment.order_id == Order.id, Shipment.rider_user_id == viewer.user_id)
        return stmt.where(assigned)
    if viewer.role is Role.INTEGRATION:
        # A platform-wide integration feeds every merchant; one bound to a merchant feeds only it.
        return stmt if viewer.merchant_id is None else stmt.where(Order.merchant_id == viewer.merchant_id)
    return stmt.where(false())


# Built once: the outreach governor reads it on every governed message (on the number's unique index).
_ORDER = Order.__table__.c
_CLOSURE = select(_ORDER.customer_id, _ORDER.status, _ORDER.completed_at, _ORDER.cancelled_at).where(
    _ORDER.number == bindparam("number")
)


class OrdersRepository(Repository):
    # --- reference data -------------------------------------------------------------------
    def merchant_ids_of_kind(self, kind: str) -> list[int]:
        return list(self.session.scalars(select(Merchant.id).where(Merchant.kind == kind).order_by(Merchant.id)))

    def merchant_by_code(self, code: str) -> Merchant | None:
        return self.session.scalar(select(Merchant).where(Merchant.code == code))

    def merchant(self, merchant_id: int) -> Merchant | None:
        return self.session.get(Merchant, merchant_id)

    def merchants(self) -> list[Merchant]:
        return list(self.session.scalars(select(Merchant).order_by(Merchant.id)))

    def category_by_code(self, code: str) -> Category | None:
        return self.session.scalar(select(Category).where(Category.code == code))

    def categories(self) -> list[Category]:
        return list(self.session.scalars(select(Category).order_by(Category.id)))

    def skus_by_code(self, merchant_id: int, codes: list[str]) -> dict[str, Sku]:
        rows = self.session.scalars(select(Sku).where(Sku.merchant_id == merchant_id, Sku.code.in_(codes)))
        return {sku.code: sku for sku in rows}

    def product_by_name(self, merchant_id: int, name: str) -> Product | None:
        return self.session.scalar(select(Product).where(Product.merchant_id == merchant_id, Product.name == name))

    def customer_by_external_id(self, external_id: str) -> Customer | None:
        return self.session.scalar(select(Customer).where(Customer.external_id == external_id))

    def customer(self, customer_id: int) -> Customer | None:
        return self.session.get(Customer, customer_id)

    def customer_by_email(self, email: str) -> Customer | None:
        return self.session.scalar(
            select(Customer).where(func.lower(Customer.email) == email.strip().lower()).order_by(Customer.id).limit(1)
        )

    def add(self, obj: object) -> None:
        self.session.add(obj)

    # --- orders ---------------------------------------------------------------------------
    def order_for_update(self, number: str) -> Order | None:
        stmt = (
            select(Order)
            .where(Order.number == number)
            .options(
                selectinload(Order.lines),
                selectinload(Order.payments),
                selectinload(Order.shipments),
                selectinload(Order.refunds),
            )
        )
        return self.session.scalar(stmt)

    def order_by_external_ref(self, merchant_id: int, external_ref: str) -> Order | None:
        stmt = (
            select(Order)
            .where(Order.merchant_id == merchant_id, Order.external_ref == external_ref)
            .options(selectinload(Order.lines), selectinload(Order.refunds))
        )
        return self.session.scalar(stmt)

    def order_for_viewer(self, number: str, viewer: Principal) -> Order | None:
        stmt = scope_orders(select(Order).where(Order.number == number), viewer).options(
            selectinload(Order.lines),
            selectinload(Order.payments),
            selectinload(Order.refunds),
            selectinload(Order.shipments).selectinload(Shipment.events),
        )
        order: Order | None = self.session.scalar(stmt)
        return order

    def search(self, viewer: Principal, query: str, request: PageRequest, status: str | None = None) -> Page[Order]:
        stmt = scope_orders(select(Order), viewer)
        query = query.strip()
        if query and NUMBER_LIKE.fullmatch(query):
            # An order number (or its start) or a phone: index range scans only, no name LIKE,
            # so the search stays fast with millions of orders.
            prefixes = {query, query.upper()}
            probe = scope_orders(select(Order.id).where(Order.number.in_(prefixes)), viewer)
            exact = self.session.scalar(probe.limit(1)) is not None
            by_number = (
                # A whole number names one order: no need to list every number it begins.
                [Order.number.in_(prefixes)]
                if exact
                else [(Order.number >= p) & (Order.number < p + "\uffff") for p in prefixes]
            )
            stmt = stmt.where(
                or_(
                    *by_number,
                    Order.customer_id.in_(select(Customer.id).where(Customer.phone == query)),
                    Order.recipient_phone == query,
                )
            )
        elif query:
            like = f"%{query}%"
            stmt = stmt.join(Customer, Customer.id == Order.customer_id).where(
                or_(
                    *[(Order.number >= p) & (Order.number < p + "\uffff") for p in {query, query.upper()}],
                    Customer.name.like(like),
                    Order.recipient_name.like(like),
                )
            )
        if status:
            stmt = stmt.where(Order.status == status)
        total = self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = self.session.scalars(
            stmt.options(selectinload(Order.lines))
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(request.size)
            .offset(request.offset)
        )
        items: list[Order] = list(rows)
        return Page(items=items, total=total, request=request)

    def recent_of_customer(self, customer_id: int, limit: int, viewer: Principal) -> list[Order]:
        rows = self.session.scalars(
            scope_orders(select(Order), viewer)
            .options(selectinload(Order.lines))
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return list(rows)

    def payment_by_reference(self, reference: str) -> Payment | None:
        return self.session.scalar(select(Payment).where(Payment.reference == reference))

    # --- shipments and logistics ----------------------------------------------------------
    # Same select shape as shipment_of_rider below on purpose: each looks a shipment up by its own key.
    def shipment_by_tracking(self, carrier: str, tracking_number: str) -> Shipment | None:
        stmt = (
            select(Shipment)
            .where(Shipment.carrier == carrier, Shipment.tracking_number == tracking_number)
            .options(selectinload(Shipment.events))
        )
        return self.session.scalar(stmt)

    def shipments_by_tracking_number(self, tracking_number: str) -> list[Shipment]:
        """Every shipment with this number, whatever its carrier (numbers are unique per carrier only)."""
        stmt = (
            select(Shipment)
            .where(Shipment.tracking_number == tracking_number)
            .options(selectinload(Shipment.events))
            .order_by(Shipment.id)
        )
        return list(self.session.scalars(stmt))

    def shipments_of_order(self, order_id: int) -> list[Shipment]:
        return list(self.session.scalars(select(Shipment).where(Shipment.order_id == order_id)))

    def rider_shipments(self, rider_user_id: int, open_statuses: list[str], done_since: datetime) -> list[Shipment]:
        """A rider's parcels still on the way, and those delivered since `done_since`."""
        stmt = (
            select(Shipment)
            .where(
                Shipment.rider_user_id == rider_user_id,
                or_(
                    Shipment.status.in_(open_statuses),
                    and_(Shipment.status == "delivered", Shipment.delivered_at >= done_since),
                ),
            )
            .options(selectinload(Shipment.order).selectinload(Order.lines), selectinload(Shipment.events))
        )
        return list(self.session.scalars(stmt))

    # Same select shape as shipment_by_tracking on purpose: another key, and a rider sees only their own.
    def shipment_of_rider(self, shipment_id: int, rider_user_id: int) -> Shipment | None:
        """One shipment, only when it is assigned to this rider (anyone else's is not there for them)."""
        stmt = (
            select(Shipment)
            .where(Shipment.id == shipment_id, Shipment.rider_user_id == rider_user_id)
            .options(selectinload(Shipment.events))
        )
        return self.session.scalar(stmt)

    def shipment_for_viewer(self, shipment_id: int, viewer: Principal) -> Shipment | None:
        shipment = self.session.get(Shipment, shipment_id)
        if shipment is None:
            return None
        visible = scope_orders(select(Order.id).where(Order.id == shipment.order_id), viewer)
        return shipment if self.session.scalar(visible) is not None else None

    def existing_event_ids(self, event_ids: list[str]) -> set[str]:
        """Which of these event ids are recorded already, on any shipment."""
        if not event_ids:
            return set()
        return set(self.session.scalars(select(LogisticsEvent.event_id).where(LogisticsEvent.event_id.in_(event_ids))))

    def logistics_event_exists(self, event_id: str) -> bool:
        return self.session.scalar(select(LogisticsEvent.id).where(LogisticsEvent.event_id == event_id)) is not None

    def order_with_lines(self, order_id: int) -> Order | None:
        stmt = (
            select(Order)
            .where(Order.id == order_id)
            .options(selectinload(Order.lines), selectinload(Order.shipments), selectinload(Order.payments))
        )
        order: Order | None = self.session.scalar(stmt)
        return order

    def skus_by_id(self, ids: list[int]) -> dict[int, Sku]:
        return {sku.id: sku for sku in self.session.scalars(select(Sku).where(Sku.id.in_(ids)))}

    def money_row(self, order_id: int, *, lock: bool) -> tuple[int, str, str, Decimal, int] | None:
        stmt = select(Order.id, Order.number, Order.currency, Order.payable_total, Order.customer_id).where(
            Order.id == order_id
        )
        if lock:
            stmt = stmt.with_for_update()
        row = self.session.execute(stmt).first()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def money_parts(
        self, order_id: int
    ) -> tuple[Decimal, Decimal, list[tuple[int, int, Decimal, int]], list[Decimal], Decimal]:
        """Shipping fee, discount, lines (id, number, unit price, quantity) in line order, the
        captured payment amounts of an order, and the tax added on top of its prices (0 when the
        prices include it); summed in Python (SQLite keeps amounts as text)."""
        fees = self.session.execute(
            select(Order.shipping_fee, Order.discount_total, Order.tax_total, Order.taxes_included).where(
                Order.id == order_id
            )
        ).one()
        lines = self.session.execute(
            select(OrderLine.id, OrderLine.line_no, OrderLine.unit_price, OrderLine.quantity)
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.line_no)
        )
        paid = self.session.scalars(select(Payment.amount).where(Payment.order_id == order_id))
        added = Decimal(0) if fees[3] else fees[2]
        return fees[0], fees[1], [(a, b, c, d) for a, b, c, d in lines], list(paid), added

    def first_payment_reference(self, order_id: int) -> str | None:
        stmt = (
            select(Payment.reference).where(Payment.order_id == order_id).order_by(Payment.paid_at, Payment.id).limit(1)
        )
        reference: str | None = self.session.scalar(stmt)
        return reference

    def order_id_by_number(self, number: str) -> int | None:
        order_id: int | None = self.session.scalar(select(Order.id).where(Order.number == number))
        return order_id

    def order(self, order_id: int) -> Order | None:
        return self.session.get(Order, order_id)

    def customer_ids_by_phone(self, phones: list[str]) -> list[int]:
        stmt = select(Customer.id).where(Customer.phone.in_(phones)).order_by(Customer.id)
        return list(self.session.scalars(stmt))

    def closure_row(self, number: str) -> tuple[int, str, datetime | None, datetime | None] | None:
        """Customer, status, completed and cancelled times of an order, in one indexed read."""
        row = self.session.connection().execute(_CLOSURE, {"number": number}).first()
        return (row[0], row[1], row[2], row[3]) if row is not None else None

    def count_orders(self) -> int:
        return self.session.scalar(select(func.count(Order.id))) or 0

    def placed_per_interval(self, since: datetime, until: datetime, seconds: int) -> dict[int, int]:
        index = interval_index(self.session, Order.placed_at, since, seconds)
        stmt = select(index, func.count()).where(Order.placed_at >= since, Order.placed_at < until).group_by(index)
        return {int(i): n for i, n in self.session.execute(stmt)}

    def numbers_by_id(self, order_ids: Collection[int]) -> dict[int, str]:
        rows = self.session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids)))
        return {row_id: number for row_id, number in rows}

    def tracking_numbers_by_id(self, shipment_ids: Collection[int]) -> dict[int, str]:
        stmt = select(Shipment.id, Shipment.tracking_number).where(Shipment.id.in_(shipment_ids))
        return {row_id: number for row_id, number in self.session.execute(stmt)}
