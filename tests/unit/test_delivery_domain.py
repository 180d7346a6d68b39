"""Pure rules of the riders' marks and of who may be handed routed work."""

from __future__ import annotations

import pytest

from aftersales.orders.domain import MARK_NODE, DeliveryMark, LogisticsNode, ShipmentStatus, marks_allowed
from aftersales.routing.domain import may_work_in


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (ShipmentStatus.PENDING, ()),
        (ShipmentStatus.PICKED_UP, (DeliveryMark.PICKED_UP,)),
        (ShipmentStatus.AT_STATION, (DeliveryMark.PICKED_UP,)),
        (ShipmentStatus.OUT_FOR_DELIVERY, (DeliveryMark.DELIVERED, DeliveryMark.FAILED)),
        (ShipmentStatus.EXCEPTION, (DeliveryMark.PICKED_UP,)),
        (ShipmentStatus.DELIVERED, ()),
    ],
)
def test_what_a_rider_may_report_next(status: ShipmentStatus, allowed: tuple[DeliveryMark, ...]) -> None:
    assert marks_allowed(status) == allowed


def test_marks_are_logistics_nodes() -> None:
    assert MARK_NODE[DeliveryMark.PICKED_UP] is LogisticsNode.OUT_FOR_DELIVERY
    assert MARK_NODE[DeliveryMark.DELIVERED] is LogisticsNode.DELIVERED
    assert MARK_NODE[DeliveryMark.FAILED] is LogisticsNode.EXCEPTION


def test_platform_queues_for_platform_staff_merchant_queues_for_their_own() -> None:
    assert may_work_in(None, None)
    assert not may_work_in(7, None)  # merchant staff, platform ticket
    assert may_work_in(7, 7)
    assert not may_work_in(None, 7)  # platform agent, a merchant's own queue
    assert not may_work_in(8, 7)
