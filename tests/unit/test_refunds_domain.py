"""Pure refund rules: the refundable amount across partial refunds, the request checks, keys,
backoff, the callback signature and the simulator's failure trigger. No database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.kit.errors import Conflict, Invalid
from aftersales.refunds import domain
from aftersales.refunds.domain import FINAL, TRANSITIONS, RefundStatus

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
positive_cents = st.integers(min_value=1, max_value=1_000_000).map(lambda c: Decimal(c).scaleb(-2))
statuses = st.sampled_from(list(RefundStatus))
earlier_refunds = st.lists(st.tuples(positive_cents, statuses), max_size=30)


@given(payable=cents, earlier=earlier_refunds)
def test_refundable_is_never_negative_and_never_above_the_payable_total(
    payable: Decimal, earlier: list[tuple[Decimal, RefundStatus]]
) -> None:
    left = domain.refundable(payable, earlier)
    assert Decimal(0) <= left <= payable


@given(payable=cents, earlier=earlier_refunds, failed=st.lists(positive_cents, max_size=10))
def test_failed_refunds_do_not_count(
    payable: Decimal, earlier: list[tuple[Decimal, RefundStatus]], failed: list[Decimal]
) -> None:
    with_failures = earlier + [(amount, RefundStatus.FAILED) for amount in failed]
    assert domain.refundable(payable, with_failures) == domain.refundable(payable, earlier)


@given(payable=cents, earlier=earlier_refunds)
def test_refundable_is_the_payable_total_minus_what_did_not_fail(
    payable: Decimal, earlier: list[tuple[Decimal, RefundStatus]]
) -> None:
    taken = sum((a for a, s in earlier if s is not RefundStatus.FAILED), Decimal(0))
    assert domain.refundable(payable, earlier) == max(payable - taken, Decimal(0))


@given(payable=cents, asks=st.lists(st.tuples(positive_cents, st.booleans()), max_size=40))
def test_partial_refunds_accepted_one_by_one_never_exceed_the_order(
    payable: Decimal, asks: list[tuple[Decimal, bool]]
) -> None:
    """Requests checked in turn (some later fail at the gateway): what did not fail stays within the
    payable total, and a refused request was really over what was left."""
    accepted: list[tuple[Decimal, RefundStatus]] = []
    for amount, fails in asks:
        left = domain.refundable(payable, accepted)
        try:
            domain.check_request(
                amount=amount,
                currency="CNY",
                order_number="SO-1",
                order_currency="CNY",
                paid_total=payable,
                still_refundable=left,
            )
        except Conflict:
            assert amount > left
            continue
        accepted.append((amount, RefundStatus.FAILED if fails else RefundStatus.SUCCEEDED))
        live = sum((a for a, s in accepted if s is not RefundStatus.FAILED), Decimal(0))
        assert live <= payable


def test_a_refund_over_what_is_left_is_refused_with_the_numbers() -> None:
    with pytest.raises(Conflict) as refused:
        domain.check_request(
            amount=Decimal("100.00"),
            currency="CNY",
            order_number="SO-9",
            order_currency="CNY",
            paid_total=Decimal("398.00"),
            still_refundable=Decimal("98.00"),
        )
    message = refused.value.message
    for number in ("SO-9", "98.00", "398.00", "300.00", "100.00"):
        assert number in message


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        (Decimal("0"), "CNY", Conflict),
        (Decimal("-1.00"), "CNY", Conflict),
        (Decimal("1.001"), "CNY", Invalid),
        (Decimal("1.00"), "USD", Conflict),
        (Decimal("1.00"), "XYZ", Invalid),
        (Decimal("NaN"), "CNY", Invalid),
    ],
)
def test_bad_requests_are_refused(amount: Decimal, currency: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        domain.check_request(
            amount=amount,
            currency=currency,
            order_number="SO-1",
            order_currency="CNY",
            paid_total=Decimal("10.00"),
            still_refundable=Decimal("10.00"),
        )


def test_the_whole_payable_total_may_be_refunded() -> None:
    domain.check_request(
        amount=Decimal("10.00"),
        currency="CNY",
        order_number="SO-1",
        order_currency="CNY",
        paid_total=Decimal("10.00"),
        still_refundable=Decimal("10.00"),
    )


def test_final_statuses_go_nowhere_and_open_ones_may_settle() -> None:
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset()
    for status in set(RefundStatus) - FINAL:
        assert TRANSITIONS[status] >= FINAL
    assert not domain.can_move(RefundStatus.SUBMITTED, RefundStatus.REQUESTED)


@pytest.mark.parametrize(
    ("key", "retry"),
    [("case:1:refund:1", "case:1:refund:1:retry1"), ("K:retry1", "K:retry2"), ("K:retry9", "K:retry10")],
)
def test_retry_keys_derive_from_the_failed_refund(key: str, retry: str) -> None:
    assert domain.retry_key(key) == retry


@pytest.mark.parametrize("key", ["", "x" * 101])
def test_keys_need_one_to_a_hundred_characters(key: str) -> None:
    with pytest.raises(Invalid):
        domain.check_key(key)


def test_backoff_doubles_and_stops_at_an_hour() -> None:
    assert [domain.backoff(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (2, 4, 8)]
    assert domain.backoff(30) == timedelta(hours=1)


def test_the_callback_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"gateway_ref":"gw1","status":"succeeded"}'
    signature = domain.callback_signature("secret", body)
    assert domain.signature_matches("secret", body, signature)
    assert domain.signature_matches("secret", body, f"sha256={signature.upper()}")
    assert not domain.signature_matches("other", body, signature)
    assert not domain.signature_matches("secret", body + b" ", signature)
    assert not domain.signature_matches("secret", body, "")


@pytest.mark.parametrize(
    ("amount", "succeeds"),
    [("10.99", False), ("0.99", False), ("10.98", True), ("99.00", True), ("10.00", True)],
)
def test_the_simulator_declines_amounts_ending_in_99_cents(amount: str, succeeds: bool) -> None:
    assert domain.simulated_outcome_succeeds(Decimal(amount)) is succeeds
