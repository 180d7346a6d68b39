"""The ticket's transition table, macros, mentions and subjects: pure rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.tickets.domain import (
    ACTIVE,
    PRIORITY_RANK,
    TRANSITIONS,
    Priority,
    TicketAction,
    TicketStatus,
    TransitionRefused,
    mentioned_usernames,
    next_status,
    raised,
    render_macro,
    subject_from,
    ticket_number,
    unknown_variables,
)


def test_every_status_has_a_row_and_closed_only_takes_notes() -> None:
    assert set(TRANSITIONS) == set(TicketStatus)
    assert list(TRANSITIONS[TicketStatus.CLOSED]) == [TicketAction.NOTE]


def test_a_customer_message_reopens_pending_and_solved_tickets() -> None:
    assert next_status(TicketStatus.PENDING, TicketAction.CUSTOMER_MESSAGE) is TicketStatus.OPEN
    assert next_status(TicketStatus.SOLVED, TicketAction.CUSTOMER_MESSAGE) is TicketStatus.OPEN
    assert next_status(TicketStatus.OPEN, TicketAction.CUSTOMER_MESSAGE) is TicketStatus.OPEN


def test_the_first_reply_opens_a_new_ticket() -> None:
    assert next_status(TicketStatus.NEW, TicketAction.REPLY) is TicketStatus.OPEN


def test_refused_transitions_say_why() -> None:
    with pytest.raises(TransitionRefused, match="closed ticket cannot take 'reopen'"):
        next_status(TicketStatus.CLOSED, TicketAction.REOPEN)


@given(st.sampled_from(list(TicketStatus)), st.sampled_from(list(TicketAction)))
def test_transitions_stay_inside_the_statuses(status: TicketStatus, action: TicketAction) -> None:
    try:
        after = next_status(status, action)
    except TransitionRefused:
        assert action not in TRANSITIONS[status]
        return
    assert after in TicketStatus
    if status is TicketStatus.CLOSED:
        assert after is TicketStatus.CLOSED


def test_merge_and_close_end_every_active_ticket() -> None:
    for status in ACTIVE:
        assert next_status(status, TicketAction.MERGE) is TicketStatus.CLOSED
        assert next_status(status, TicketAction.CLOSE) is TicketStatus.CLOSED


@given(st.sampled_from(list(Priority)))
def test_raising_a_priority_never_lowers_it(priority: Priority) -> None:
    assert PRIORITY_RANK[raised(priority)] >= PRIORITY_RANK[priority]
    assert raised(Priority.URGENT) is Priority.URGENT


def test_macros_fill_known_variables_and_drop_missing_ones() -> None:
    text = "您好{{customer_name}}，订单{{ order_number }}，工单{{ticket_number}}{{case_number}}"
    assert render_macro(text, {"customer_name": "李娜", "order_number": "SO1", "ticket_number": "TK1"}) == (
        "您好李娜，订单SO1，工单TK1"
    )
    assert unknown_variables("{{customer_name}} {{coupon_code}}") == ["coupon_code"]


def test_mentions_are_found_once_and_emails_are_not_mentions() -> None:
    assert mentioned_usernames("@agent2 请看 @supervisor. 和 @agent2；mail me at a@example.com") == [
        "agent2",
        "supervisor",
    ]


def test_subjects_come_from_the_first_line() -> None:
    assert subject_from("\n  我的耳机坏了\n第二行") == "我的耳机坏了"
    assert subject_from("x" * 100).endswith("…") and len(subject_from("x" * 100)) == 80
    assert ticket_number("261123", 42) == "TK261123000042"
