"""The ticket's transition table, macros, mentions and subjects: pure rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.tickets.domain import (
    ACTIVE,
    PRIORITY_RANK,
    TRANSITIONS,
    MailSender,
    Priority,
    TicketAction,
    TicketStatus,
    TransitionRefused,
    auth_failures,
    may_join,
    mentioned_usernames,
    next_status,
    raised,
    render_macro,
    sender_disproved,
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


# --- who may write into a ticket by email ------------------------------------------------------------------
def _sender(address: str = "li.na@example.com", ambiguous: bool = False, **auth: str) -> MailSender:
    return MailSender(address, ambiguous, auth)


def test_the_requester_and_participants_join_anyone_else_does_not() -> None:
    participants = {"wang.wei@example.com"}
    assert may_join(_sender(), "Li.Na@example.com", participants)
    assert may_join(_sender("wang.wei@example.com"), "li.na@example.com", participants)
    assert not may_join(_sender("eve@evil.example"), "li.na@example.com", participants)
    assert not may_join(_sender(""), "", participants)


@pytest.mark.parametrize(
    ("auth", "disproved"),
    [
        ({}, False),
        ({"dmarc": "pass", "spf": "fail"}, False),  # forwarded: SPF breaks, DKIM and so DMARC hold
        ({"dmarc": "fail", "spf": "pass", "dkim": "pass"}, True),
        ({"spf": "fail"}, True),
        ({"spf": "fail", "dkim": "pass"}, False),
        ({"spf": "softfail"}, False),
        ({"dmarc": "none", "spf": "fail"}, True),  # no DMARC record: SPF and DKIM decide
        ({"dmarc": "permerror", "spf": "pass"}, False),
    ],
)
def test_a_sender_the_mta_found_forged_is_not_trusted(auth: dict[str, str], disproved: bool) -> None:
    assert sender_disproved(auth) is disproved
    assert may_join(_sender(**auth), "li.na@example.com", []) is not disproved


def test_an_ambiguous_sender_joins_nothing() -> None:
    assert not may_join(_sender(ambiguous=True), "li.na@example.com", [])


def test_failed_checks_are_listed_for_the_agents() -> None:
    assert auth_failures({"spf": "softfail", "dkim": "pass", "dmarc": "fail"}) == ["spf=softfail", "dmarc=fail"]
    assert auth_failures({"spf": "pass", "dkim": "none"}) == []
