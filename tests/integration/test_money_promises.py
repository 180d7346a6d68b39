"""What a customer or an administrator is told about money and solutions is what happens: the
policies' dry run on an order line gives the real request's outcome and refuses units the line
does not have; a missing or wrong item is not called a quality problem; a return and refund is not
offered an exchange; and no case action claims a coupon that nothing issues."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason, CaseStatus, allowed_actions
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import AppError, Invalid
from aftersales.rules import service as rules
from aftersales.rules.schemas import DryRunIn
from aftersales.web import i18n
from aftersales.worker import wiring

from ..factories import Factory
from .helpers import delivered_order

AGENT = Principal(user_id=0, username="agent", role=Role.AGENT_T1, display_name="agent")


@pytest.fixture
def shop(factory: Factory, db: Database, settings) -> Factory:  # type: ignore[no-untyped-def]
    wiring.connect(settings, db)
    rules.load_defaults(db)
    factory.catalogue()
    return factory


def _draft(kind: str, reason: str, quantity: int = 1, number: str = "SO-M1") -> CaseDraft:
    return CaseDraft(
        order_number=number,
        kind=CaseKind(kind),
        reason=CaseReason(reason),
        lines=[CaseLineIn(line_no=1, quantity=quantity)],
    )


def _dry(db: Database, kind: str, reason: str, quantity: int = 1, number: str = "SO-M1") -> Any:
    return rules.run_dry_run(db, DryRunIn(order_number=number, line_no=1, kind=kind, reason=reason, quantity=quantity))


def test_the_dry_run_gives_the_real_requests_outcome(shop: Factory, db: Database) -> None:
    delivered_order(shop, db, "SO-M1", lines=[{"line_no": 1, "sku": "SKU-2", "quantity": 2, "unit_price": "59.90"}])
    before = _dry(db, "return_refund", "changed_mind", 2)
    preview = cases.preview(db, _draft("return_refund", "changed_mind", 2), SYSTEM)
    assert (before.eligible, before.approval) == (preview.eligible, preview.approval) == (True, "auto")
    case = cases.submit(db, _draft("return_refund", "changed_mind", 2), SYSTEM, via="agent")
    assert case.status == CaseStatus.AWAITING_RETURN  # approved at once
    # Both units are claimed now: the real request is refused, and the dry run says the same, for the same reason.
    again = cases.preview(db, _draft("return_refund", "changed_mind", 1), SYSTEM)
    after = _dry(db, "return_refund", "changed_mind", 1)
    assert not again.eligible and not after.eligible
    assert after.reason_en == again.reason_en and "0" in after.reason_en and "7-day" not in after.reason_en
    assert after.reason_zh == again.reason_zh


def test_the_dry_run_refuses_more_units_than_the_line_has_in_the_readers_language(shop: Factory, db: Database) -> None:
    delivered_order(shop, db, "SO-M1")  # line 1: 2 units
    with pytest.raises(Invalid) as refused:
        _dry(db, "return_refund", "changed_mind", 5)
    assert "2" in i18n.error_text(refused.value, "en") and "5" in i18n.error_text(refused.value, "en")
    zh = i18n.error_text(refused.value, "zh-CN")
    assert "件" in zh and "2" in zh, zh


@pytest.mark.parametrize("reason", ["missing_item", "wrong_item"])
def test_a_missing_or_wrong_item_is_not_called_a_quality_problem(shop: Factory, db: Database, reason: str) -> None:
    delivered_order(shop, db, "SO-M1")
    for kind in ("refund_only", "return_refund", "exchange"):
        preview = cases.preview(db, _draft(kind, reason), SYSTEM)
        assert preview.eligible, (kind, preview.reason_en)
        assert "quality" not in preview.reason_en.lower(), (kind, preview.reason_en)
        assert "质量" not in preview.reason_zh, (kind, preview.reason_zh)


def test_each_kind_is_offered_only_its_own_solution(shop: Factory, db: Database) -> None:
    delivered_order(shop, db, "SO-M1")
    offered = {
        kind: cases.preview(db, _draft(kind, "defect"), SYSTEM).resolutions
        for kind in ("refund_only", "return_refund", "exchange", "repair")
    }
    assert offered == {
        "refund_only": ["refund"],
        "return_refund": ["refund"],
        "exchange": ["exchange"],
        "repair": ["repair"],
    }


def test_no_case_action_claims_a_coupon(shop: Factory, db: Database) -> None:
    """A case has no coupon step: coupons come from the wallet (by a policy or an agent, once per
    fact), never from a case action that records one without issuing it."""
    assert all(
        CaseAction.OFFER_COUPON not in allowed_actions(kind, status) for kind in CaseKind for status in CaseStatus
    )
    delivered_order(shop, db, "SO-M1")
    claim = CaseDraft(
        order_number="SO-M1", kind=CaseKind.COMPENSATION, reason=CaseReason.LATE_DELIVERY, compensation_amount="20"
    )
    case = cases.submit(db, claim, SYSTEM, via="agent")
    assert "offer_coupon" not in cases.get_case(db, case.number, AGENT).next_actions
    with pytest.raises(AppError):
        cases.act(db, case.number, ActionIn(action="offer_coupon", note="20 元优惠券"), AGENT)
