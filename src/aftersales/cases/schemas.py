"""Shapes of the cases API and pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from aftersales.cases.domain import EVIDENCE_URI_RULE, CaseAction, CaseKind, CaseReason, evidence_uri_allowed
from aftersales.timeline.schemas import TimelineLine

Short = Annotated[str, Field(max_length=200)]


class EvidenceIn(BaseModel):
    kind: Annotated[str, Field(pattern=r"^(photo|tracking|inspection|repair_note|note|invoice)$")] = "photo"
    text: Annotated[str, Field(max_length=1000)] = ""
    uri: Annotated[
        str, Field(max_length=400, description="an http(s) address, or a photo uploaded to the case; empty for none")
    ] = ""

    @field_validator("uri")
    @classmethod
    def _linkable(cls, value: str) -> str:
        if not evidence_uri_allowed(value):
            raise ValueError(f"{EVIDENCE_URI_RULE}, not {value[:60]!r}")
        return value


class CaseLineIn(BaseModel):
    line_no: Annotated[int, Field(ge=1, le=1000)]
    quantity: Annotated[int, Field(ge=1, le=100_000)]


class CaseDraft(BaseModel):
    """What a customer, an agent on their behalf, an integration or the bot submits."""

    order_number: Annotated[str, Field(min_length=1, max_length=64)]
    kind: CaseKind
    reason: CaseReason
    lines: list[CaseLineIn] = Field(default_factory=list, max_length=50)
    description: Annotated[str, Field(max_length=2000)] = ""
    opened: bool = Field(default=False, description="the package was opened or the item used")
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)
    return_method: Annotated[str, Field(pattern=r"^(pickup|mail_back|intercept|)$")] = ""
    compensation_amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None

    @model_validator(mode="after")
    def _lines_needed(self) -> CaseDraft:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("each line_no may appear once")
        if self.kind not in (CaseKind.INVOICE, CaseKind.COMPENSATION) and not self.lines:
            raise ValueError(f"a {self.kind.value} case needs at least one order line")
        if self.kind is CaseKind.COMPENSATION and self.compensation_amount is None:
            raise ValueError("a compensation case needs compensation_amount")
        return self


class LineDecision(BaseModel):
    line_no: int
    product_name: str
    quantity: int
    claimable: int
    amount: Decimal
    eligible: bool
    reason: str
    shipping_share: Decimal | None = None  # cases.domain.shipping_share


class Preview(BaseModel):
    """The outcome a customer sees before submitting."""

    eligible: bool
    reason_zh: str
    reason_en: str
    approval: str
    review_hours: int
    return_shipping_paid_by: str
    resolutions: list[str]
    offers: list[str]
    amount: Decimal
    currency: str
    lines: list[LineDecision]
    policy_keys: list[str]
    # Compensation: the most all claims on the order may total, and what can still be claimed.
    compensation_cap: Decimal | None = None
    compensation_claimable: Decimal | None = None
    # The policies that approve the case at once (approval "auto"), for its timeline.
    approval_policies: list[str] = Field(default_factory=list)


class ActionIn(BaseModel):
    action: CaseAction
    version: Annotated[int, Field(ge=1, description="the case version you saw; a stale one gets 409")] | None = None
    note: Annotated[str, Field(max_length=2000)] = ""
    carrier: Annotated[str, Field(max_length=32)] = ""
    tracking_number: Annotated[str, Field(max_length=64)] = ""
    pickup_at: AwareDatetime | None = None
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None


class CaseLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    line_no: int
    sku_code: str
    product_name: str
    quantity: int
    unit_price: Decimal
    amount: Decimal | None = None  # what the case asks for these units (None on cases from before)
    # Above the goods' price: the line's share of the order's shipping (cases.domain.shipping_share).
    shipping_share: Decimal | None = None


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    text: str
    uri: str
    added_by: str
    added_at: datetime

    @property
    def linkable(self) -> bool:
        """Evidence stored before links were checked may hold anything: pages show it as text."""
        return bool(self.uri) and evidence_uri_allowed(self.uri)


class CaseEventOut(TimelineLine):
    pass


class RefundView(BaseModel):
    amount: Decimal
    currency: str
    status: str
    requested_at: datetime
    settled_at: datetime | None


class CaseSummary(BaseModel):
    number: str
    kind: str
    status: str
    order_number: str
    merchant_id: int
    reason: str
    requested_amount: Decimal
    currency: str
    created_at: datetime
    review_due_at: datetime | None
    overdue: bool
    # The review deadline passed without a decision and the supervisors were alerted.
    escalated: bool = False


class DisputableCase(BaseModel):
    """What the disputes context needs of a case to open a dispute on it."""

    case_id: int
    number: str
    kind: str
    status: str
    order_id: int
    order_number: str
    customer_id: int
    merchant_id: int
    currency: str
    paid: Decimal  # what the case's lines were paid (the amount asked, for compensation)
    description: str
    closed_at: datetime | None
    review_due_at: datetime | None


class CaseOut(CaseSummary):
    version: int
    description: str
    approved_amount: Decimal | None
    resolution: str
    allowed_resolutions: list[str]
    offers: list[str]
    return_shipping_paid_by: str
    return_method: str
    return_carrier: str
    return_tracking: str
    pickup_at: datetime | None
    pickup_reference: str = ""
    # Where the goods go while the return is due or on its way; "" when the merchant has not said.
    return_address: str | None = None
    eligibility_reason: str
    policy_keys: list[str]
    submitted_via: str
    closed_at: datetime | None
    lines: list[CaseLineOut]
    evidence: list[EvidenceOut]
    timeline: list[CaseEventOut]
    refunds: list[RefundView]
    next_actions: list[str]


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    size: int


class MerchantTaskOut(BaseModel):
    """An urged order on the merchant's list and the order page: when, due by, handled or not."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    order_number: str
    created_at: datetime
    due_at: datetime
    handled_at: datetime | None
    handled_by: str
    handled_note: str
    overdue: bool = False
