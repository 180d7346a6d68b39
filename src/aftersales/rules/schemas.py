"""Pydantic shapes of the policies API and the dry run."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aftersales.kit.vocabulary import CaseKind, CaseReason
from aftersales.rules.domain import DEFAULT_PRIORITY, Decision, compensation_cap

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.]*$"


class PolicyIn(BaseModel):
    """An administrator's edit: the definition, whether it is on, and where it sits in the walk."""

    definition: dict[str, Any] = Field(description='{"when": <condition>, "then": <outcome>}, see docs/policies.md')
    enabled: bool = True
    priority: Annotated[int, Field(ge=0, le=100_000)] = 100
    version: Annotated[int | None, Field(ge=1, description="the version you edited; a newer one gives 409")] = None


# Same fields as policy_file.PolicySpec on purpose: that is a file entry, checked without pydantic.
class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    purpose: str
    name_zh: str
    name_en: str
    priority: int
    enabled: bool
    merchant_id: int | None
    merchant_code: str | None = None
    definition: dict[str, Any]
    version: int
    updated_at: datetime
    updated_by: str


class DryRunIn(BaseModel):
    """Either explicit facts, or a real order line (the facts are then built from the order)."""

    facts: dict[str, Any] | None = Field(
        default=None, description="attribute → value, e.g. {'case.kind': 'return_refund', ...}"
    )
    order_number: Annotated[str | None, Field(max_length=64)] = None
    line_no: Annotated[int | None, Field(ge=1, le=10_000)] = None
    kind: CaseKind | None = None
    reason: CaseReason | None = None
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    opened: bool = False
    policy_key: Annotated[str | None, Field(max_length=64, description="also try this policy, even if off")] = None
    purpose: Literal["eligibility", "compensation", "routing", "outreach", "ticket_priority"] = "eligibility"

    @model_validator(mode="after")
    def _one_source(self) -> DryRunIn:
        if self.facts is None and self.purpose == "ticket_priority":
            raise ValueError("a ticket-priority dry run needs 'facts'")
        if self.facts is None:
            missing = [name for name in ("order_number", "line_no", "kind", "reason") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"give either 'facts', or an order line: missing {', '.join(missing)}")
        return self


class DryRunOut(BaseModel):
    eligible: bool
    reason_zh: str
    reason_en: str
    reasons_zh: list[str]
    reasons_en: list[str]
    approval: str
    review_hours: int
    return_shipping_paid_by: str
    resolutions: list[str]
    offers: list[str]
    policy_keys: list[str]
    facts: dict[str, Any]
    merchant_id: int | None
    source: Literal["facts", "order"]
    policy_key: str | None = None
    policy_matched: bool | None = None
    purpose: str = "eligibility"
    priority: str | None = Field(default=None, description="ticket_priority dry runs: urgent, high, medium or low")
    cap_share_of_paid: Decimal | None = Field(default=None, description="compensation cap: share of what was paid")
    cap_amount: Decimal | None = Field(default=None, description="compensation cap: absolute ceiling")
    compensation_cap: Decimal | None = Field(
        default=None, description="the resulting cap for this order (needs order.total); null when no cap applies"
    )

    @classmethod
    def of(
        cls,
        decision: Decision,
        facts: dict[str, Any],
        merchant_id: int | None,
        source: Literal["facts", "order"],
        policy_key: str | None = None,
        purpose: str = "eligibility",
    ) -> DryRunOut:
        # Field by field on purpose: DryRunOut's own fields; look-alikes elsewhere build others'.
        return cls(
            eligible=decision.eligible,
            reason_zh=decision.reason("zh"),
            reason_en=decision.reason("en"),
            reasons_zh=decision.reasons_zh,
            reasons_en=decision.reasons_en,
            approval=decision.approval,
            review_hours=decision.review_hours,
            return_shipping_paid_by=decision.return_shipping_paid_by,
            resolutions=decision.resolutions,
            offers=decision.offers,
            policy_keys=decision.policy_keys,
            facts=facts,
            merchant_id=merchant_id,
            source=source,
            policy_key=policy_key,
            policy_matched=(policy_key in decision.policy_keys) if policy_key else None,
            purpose=purpose,
            priority=(decision.priority or DEFAULT_PRIORITY) if purpose == "ticket_priority" else None,
            cap_share_of_paid=decision.cap_share_of_paid,
            cap_amount=decision.cap_amount,
            compensation_cap=_cap_for(decision, facts),
        )


def _cap_for(decision: Decision, facts: dict[str, Any]) -> Decimal | None:
    """The cap a compensation claim on these facts would meet (what the cases context applies)."""
    paid = facts.get("order.total")
    if facts.get("case.kind") != "compensation" or paid is None:
        return None
    return compensation_cap(Decimal(str(paid)), decision.cap_share_of_paid, decision.cap_amount)
