"""Pydantic shapes of the orders API: what integrators send and what readers get."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from aftersales.kit.money import SUPPORTED_CURRENCIES
from aftersales.orders import domain
from aftersales.orders.domain import CustomerTier, ExceptionReason, LogisticsNode, MerchantKind, OrderStatus
from aftersales.timeline.schemas import TimelineLine

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
Text = Annotated[str, Field(max_length=400)]
PositiveAmount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]


def _order_number(value: str) -> str:
    problem = domain.order_number_problem(value)
    if problem:
        raise ValueError(f"the order number {problem}")
    return value


# An order number as the shop writes it (orders.domain.order_number_problem says what is refused).
OrderNumber = Annotated[str, Field(min_length=1, max_length=domain.ORDER_NUMBER_MAX), AfterValidator(_order_number)]


def _currency(value: str) -> str:
    value = value.upper()
    if value not in SUPPORTED_CURRENCIES:
        raise ValueError(f"unsupported currency; use one of {', '.join(sorted(SUPPORTED_CURRENCIES))}")
    return value


class CategoryIn(BaseModel):
    code: Code
    name_zh: Annotated[str, Field(min_length=1, max_length=120)]
    name_en: Annotated[str, Field(min_length=1, max_length=120)]


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name_zh: str
    name_en: str


class MerchantIn(BaseModel):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: MerchantKind
    # Where returns go; left out, the address already on file stays.
    return_address: Annotated[str | None, Field(max_length=300)] = None


class MerchantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    kind: MerchantKind
    credit_score: int
    return_address: str


class SkuIn(BaseModel):
    code: Code
    spec: Annotated[str, Field(max_length=200)] = ""
    price: PositiveAmount
    currency: str = "CNY"
    stock: Annotated[int, Field(ge=0, le=10_000_000)] = 0

    _cur = field_validator("currency")(_currency)


class ProductIn(BaseModel):
    merchant_code: Code
    category_code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    brand: Annotated[str, Field(max_length=120)] = ""
    tags: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)
    skus: list[SkuIn] = Field(min_length=1, max_length=200)


class ProductOut(BaseModel):
    id: int
    name: str
    category_code: str
    skus: list[str]


class CustomerIn(BaseModel):
    external_id: Code
    name: Annotated[str, Field(min_length=1, max_length=120)]
    phone: Annotated[str, Field(max_length=32, pattern=r"^[0-9+\- ]*$")] = ""
    email: Annotated[str, Field(max_length=200)] = ""
    tier: CustomerTier = CustomerTier.REGULAR


class AddressIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    phone: Annotated[str, Field(max_length=32, pattern=r"^[0-9+\- ]*$")]
    region: Annotated[str, Field(max_length=200)] = ""
    detail: Annotated[str, Field(min_length=1, max_length=400)]


class OrderLineIn(BaseModel):
    line_no: Annotated[int, Field(ge=1, le=1000)]
    sku: Code
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    unit_price: PositiveAmount
    out_of_stock: bool = False
    # The shop's name for the item: used only when an import registers a SKU it has not seen.
    name: Annotated[str, Field(max_length=200)] = ""


class RefundLineIn(BaseModel):
    line_no: Annotated[int, Field(ge=1, le=1000)]
    quantity: Annotated[int, Field(ge=0, le=100_000)]


class OrderRefundIn(BaseModel):
    """Money the shop gave back on its own platform (not a refund Aftersales pays out)."""

    reference: Code
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
    refunded_at: AwareDatetime
    reason: Annotated[str, Field(max_length=400)] = ""
    lines: list[RefundLineIn] = Field(default_factory=list, max_length=200)


class PaymentIn(BaseModel):
    reference: Code
    method: Annotated[str, Field(min_length=1, max_length=24)]
    amount: PositiveAmount
    paid_at: AwareDatetime


Carrier = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]


class ShipmentIn(BaseModel):
    carrier: Carrier
    tracking_number: Code
    promised_at: AwareDatetime | None = None
    shipped_at: AwareDatetime | None = None
    rider: Annotated[str, Field(max_length=80)] | None = Field(
        default=None, description="username of the delivery rider, if the platform delivers itself"
    )


class OrderRefundsIn(BaseModel):
    """Refunds a shop reports on their own, for the order it knows by its own id (external_ref)."""

    merchant_code: Code
    external_ref: Annotated[str, Field(min_length=1, max_length=80)]
    refunds: list[OrderRefundIn] = Field(min_length=1, max_length=100)


class OrderIn(BaseModel):
    """One revision of an order as the shop's order system knows it."""

    model_config = ConfigDict(json_schema_extra={"examples": []})

    number: OrderNumber
    version: Annotated[int, Field(ge=1, le=2**31 - 1, description="the shop's revision of this order")]
    updated_at: AwareDatetime
    merchant_code: Code
    status: OrderStatus
    currency: str = "CNY"
    placed_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    customer: CustomerIn
    shipping_address: AddressIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    shipping_fee: PositiveAmount = Decimal("0")
    discount_total: PositiveAmount = Decimal("0")
    tax_total: PositiveAmount = Field(default=Decimal("0"), description="the tax within the payable total")
    taxes_included: bool = Field(
        default=True, description="true: prices already include the tax; false: the tax is added to the total"
    )
    refunds: list[OrderRefundIn] = Field(default_factory=list, max_length=100)
    external_ref: Annotated[str, Field(max_length=80)] | None = Field(
        default=None, description="the shop platform's own id for this order, e.g. 'shopify:450789469'"
    )
    payments: list[PaymentIn] = Field(default_factory=list, max_length=20)
    shipments: list[ShipmentIn] = Field(default_factory=list, max_length=20)
    tags: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)
    note: Annotated[str, Field(max_length=1000)] = ""

    _cur = field_validator("currency")(_currency)

    @model_validator(mode="after")
    def _distinct_lines(self) -> OrderIn:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("line_no must be unique within an order")
        goods = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
        if self.discount_total > goods + self.shipping_fee:
            raise ValueError("discount_total is larger than the goods and shipping together")
        tax = self.tax_total
        payable = domain.payable_total(goods, self.shipping_fee, self.discount_total, tax, self.taxes_included)
        problem = domain.refunds_problem(sum((r.amount for r in self.refunds), Decimal(0)), payable)
        if problem:
            raise ValueError(problem)
        references = [r.reference for r in self.refunds]
        if len(references) != len(set(references)):
            raise ValueError("refunds: each refund's reference must be unique within an order")
        known_lines = set(numbers)
        for refund in self.refunds:
            stray = sorted({rl.line_no for rl in refund.lines} - known_lines)
            if stray:
                raise ValueError(f"refunds: refund {refund.reference} names line(s) {stray} the order does not have")
        return self


class LogisticsEventIn(BaseModel):
    event_id: Code
    carrier: Carrier
    tracking_number: Code
    node: LogisticsNode
    occurred_at: AwareDatetime
    place: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=1000)] = ""
    carrier_code: Annotated[str, Field(max_length=64)] = ""
    exception_reason: ExceptionReason | None = None

    @model_validator(mode="after")
    def _reason_only_on_exceptions(self) -> LogisticsEventIn:
        if self.exception_reason is not None and self.node is not LogisticsNode.EXCEPTION:
            raise ValueError("exception_reason is for exception scans only")
        return self


class TrackingScanIn(BaseModel):
    """One scan of a carrier's tracking, already mapped to our words; `event_id` is the scan's
    stable identity, `field` where it sits in the payload (for messages)."""

    event_id: Code
    node: LogisticsNode
    occurred_at: AwareDatetime
    place: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=1000)] = ""
    carrier_code: Annotated[str, Field(max_length=64)] = ""
    exception_reason: ExceptionReason | None = None
    field: str = ""


class TrackingIn(BaseModel):
    """A tracking as a carrier or tracking platform sends it: the number, the carrier as it names
    it (a hint when the number is on shipments of several carriers) and its scans."""

    tracking_number: Annotated[str, Field(min_length=1, max_length=64)]
    carrier: Annotated[str, Field(max_length=64)] = ""
    scans: list[TrackingScanIn]
    field: str = "tracking_number"


class TrackingImported(BaseModel):
    tracking_number: str
    carrier: str
    order_number: str
    status: str = Field(description="the shipment's status after the import")
    new_events: int


class LogisticsEventResult(BaseModel):
    event_id: str
    result: str = Field(description="'recorded' the first time, 'duplicate' on a replay")
    shipment_status: str
    order_status: str


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    line_no: int
    sku_code: str
    product_name: str
    category_code: str
    quantity: int
    unit_price: Decimal
    currency: str
    stock_status: str


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    reference: str
    method: str
    amount: Decimal
    currency: str
    paid_at: datetime


class LogisticsEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    event_id: str
    node: str
    occurred_at: datetime
    place: str
    description: str
    carrier_code: str = ""
    exception_reason: str | None = None


class ShipmentOut(BaseModel):
    id: int
    carrier: str
    tracking_number: str
    status: str
    promised_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    current_node: str | None
    current_place: str
    late: bool
    overdue_hours: float
    events: list[LogisticsEventOut]


class TimelineOut(TimelineLine):
    subject_type: str


class OrderRefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    reference: str
    amount: Decimal
    currency: str
    refunded_at: datetime
    reason: str
    lines: list[dict[str, int]]


class OrderSummary(BaseModel):
    number: str
    status: str
    merchant_code: str
    merchant_name: str
    merchant_kind: str
    customer_name: str
    currency: str
    payable_total: Decimal
    placed_at: datetime
    item_count: int = 0


class OrderOut(OrderSummary):
    version: int
    source_version: int
    customer_external_id: str
    customer_phone: str
    recipient_name: str
    recipient_phone: str
    address_region: str
    address_detail: str
    goods_total: Decimal
    shipping_fee: Decimal
    discount_total: Decimal
    tax_total: Decimal = Decimal(0)
    taxes_included: bool = True
    refunded_total: Decimal = Decimal(0)
    refunds: list[OrderRefundOut] = []
    external_ref: str | None = None
    paid_at: datetime | None
    delivered_at: datetime | None
    tags: list[str]
    eta: datetime | None
    late: bool
    lines: list[OrderLineOut]
    payments: list[PaymentOut]
    shipments: list[ShipmentOut]
    timeline: list[TimelineOut]


class UpsertResult(BaseModel):
    number: str
    result: str = Field(description="'created', 'updated' or 'unchanged' (a replay or an older version)")
    status: str
    source_version: int
    customer_fields_kept: list[str] = Field(
        default=[],
        description="customer fields sent with other values that were not applied: the customer belongs to "
        "the platform or another merchant, so this token may attach orders to it but not change who it is",
    )


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total: int
    page: int
    size: int


class LineFacts(BaseModel):
    """One order line as other contexts need it to decide on after-sales."""

    line_id: int
    line_no: int
    sku_code: str
    product_name: str
    category_code: str
    product_tags: list[str]
    quantity: int
    unit_price: Decimal
    current_price: Decimal
    stock_status: str
    # What the buyer paid for the whole line: unit price × quantity less its share of the order's
    # discount plus its share of the shipping (orders.domain.paid_shares).
    paid: Decimal


class OrderFacts(BaseModel):
    order_id: int
    number: str
    status: OrderStatus
    currency: str
    payable_total: Decimal
    placed_at: datetime
    paid_at: datetime | None
    delivered_at: datetime | None
    shipped: bool
    merchant_id: int
    merchant_code: str
    merchant_name: str
    merchant_kind: MerchantKind
    merchant_tags: list[str]
    customer_id: int
    customer_tier: str
    customer_email: str
    customer_locale: str
    tags: list[str]
    lines: list[LineFacts]
    # The worst shipment's lateness against its promised delivery time, in whole hours (0 = on time).
    hours_late: int = 0


class DeliveryRecord(BaseModel):
    """An order's delivery against the promise frozen when it was confirmed (paid), for lateness
    compensation: what was paid, when it was due, when it came, and what excuses lateness."""

    order_id: int
    number: str
    status: OrderStatus
    merchant_id: int
    customer_id: int
    customer_tier: str
    currency: str
    paid: Decimal  # what the payments captured, never above the payable total
    paid_at: datetime | None
    promised_at: datetime | None  # frozen: the platform's promise at payment (on-demand: stamped then)
    delivered_at: datetime | None
    region: str
    on_demand: bool  # tag on_demand: 同城即时配送, promised in minutes
    preorder: bool  # tag preorder: 预售
    buyer_fault: bool  # tag buyer_delay: the delay was the buyer's doing


class OrderClosure(BaseModel):
    """What the outreach governor's window reads of an order."""

    customer_id: int
    status: str
    closed_at: datetime | None


class CustomerContact(BaseModel):
    customer_id: int
    name: str
    email: str
    locale: str
    phone: str = ""
    tier: str = "regular"
    email_notices: bool = True  # the customer's choice: notices also by email


class LineMoney(BaseModel):
    line_id: int
    line_no: int
    captured: Decimal  # what the payments captured on this line (its paid share when paid in full)


class OrderMoney(BaseModel):
    order_id: int
    number: str
    currency: str
    payable_total: Decimal
    payment_reference: str | None
    customer_id: int
    captured: Decimal = Decimal(0)  # the sum of the captured payments, at most the payable total
    lines: list[LineMoney] = []


class DeliveryOut(BaseModel):
    """One parcel on a rider's list: where to take it, the recipient's phone masked (the rider
    reaches the recipient through the platform's customer service), and what may be reported next."""

    shipment_id: int
    order_number: str
    carrier: str
    tracking_number: str
    status: str
    recipient_name: str
    recipient_phone_masked: str
    address: str
    items: str
    promised_at: datetime | None
    delivered_at: datetime | None
    late: bool
    last_note: str
    marks: list[str]
    photos: list[str]


class OrderDims(BaseModel):
    """An order's report dimensions (analytics files case, refund and delivery events under them)."""

    order_id: int
    number: str
    merchant_id: int
    customer_id: int
    carrier: str
    region: str
    category: str
    delivered_at: datetime | None
    paid_at: datetime | None
