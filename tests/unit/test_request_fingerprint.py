"""The digest stored with an idempotency key: one per meaning, not per spelling."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aftersales.kit.ids import request_fingerprint


def test_key_order_and_the_writing_of_an_amount_do_not_matter() -> None:
    a = request_fingerprint("cases.submit", {"amount": Decimal("10"), "lines": [1, 2], "why": "x"})
    b = request_fingerprint("cases.submit", {"why": "x", "lines": [1, 2], "amount": Decimal("10.00")})
    assert a == b and len(a) == 64


def test_content_and_operation_do_matter() -> None:
    base = request_fingerprint("cases.submit", {"amount": Decimal("10"), "at": datetime(2026, 11, 1, tzinfo=UTC)})
    assert base != request_fingerprint(
        "cases.submit", {"amount": Decimal("11"), "at": datetime(2026, 11, 1, tzinfo=UTC)}
    )
    assert base != request_fingerprint(
        "cases.other", {"amount": Decimal("10"), "at": datetime(2026, 11, 1, tzinfo=UTC)}
    )
    assert request_fingerprint("x", {"lines": [1, 2]}) != request_fingerprint("x", {"lines": [2, 1]})
