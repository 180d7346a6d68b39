"""The CSAT formulas and the survey's rules on small hand-computed data (docs/csat.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from aftersales.surveys import domain
from aftersales.surveys.domain import Response, SurveyStatus

T0 = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)


def test_per_dimension_csat_is_the_share_of_fours_and_fives() -> None:
    # 5, 4, 3, 2, 4 → three of five are 4–5.
    assert domain.dimension_csat([5, 4, 3, 2, 4]) == Fraction(3, 5)
    assert domain.dimension_csat([3, 3]) == 0
    assert domain.dimension_csat([]) is None


def test_headline_is_the_share_of_responses_whose_mean_is_at_least_four() -> None:
    answers = [
        (5, 5, 5),  # mean 5 → counts
        (4, 4, 4),  # mean 4 → counts
        (5, 4, 3),  # mean 4 → counts (exactly 4)
        (5, 5, 1),  # mean 3.67 → not
        (4, 4, 3),  # mean 3.67 → not
    ]
    assert domain.headline_csat(answers) == Fraction(3, 5)
    assert domain.headline_csat([]) is None


def test_response_rate_is_answered_over_sent() -> None:
    assert domain.response_rate(3, 8) == Fraction(3, 8)
    assert domain.response_rate(0, 0) is None


def test_percent_reads_as_people_read_it() -> None:
    assert domain.percent(Fraction(2, 3)) == "66.7%"
    assert domain.percent(Fraction(3, 5)) == "60%"
    assert domain.percent(None) == "—"


def test_summary_credits_every_agent_who_replied() -> None:
    responses = [
        Response(5, 5, 5, agent_ids=(1, 2)),
        Response(2, 3, 4, agent_ids=(2,)),
        Response(4, 4, 4, agent_ids=(1, 1)),  # a repeated id counts once
    ]
    total = domain.summarise(responses, sent=6, answered=3)
    assert (total.result, total.speed, total.attitude) == (Fraction(2, 3), Fraction(2, 3), Fraction(1))
    assert total.headline == Fraction(2, 3)
    assert total.response_rate == Fraction(1, 2)
    agents = domain.by_agent(responses, {1: 2, 2: 4, 3: 1}, {1: 2, 2: 2})
    assert agents[1].responses == 2 and agents[1].headline == 1 and agents[1].response_rate == 1
    assert agents[2].responses == 2 and agents[2].result == Fraction(1, 2) and agents[2].response_rate == Fraction(1, 2)
    assert agents[3].responses == 0 and agents[3].headline is None and agents[3].response_rate == 0


def test_chat_is_surveyed_at_close_other_channels_a_day_later() -> None:
    assert domain.send_at("chat", T0) == T0
    assert domain.send_at("email", T0) == T0 + timedelta(hours=24)
    assert domain.send_at("web", T0) == T0 + timedelta(hours=24)
    assert domain.expires_at(T0) == T0 + timedelta(days=7)


def test_reasons_and_comment_are_kept_only_when_a_score_is_low() -> None:
    low = domain.make_answer(["5", "3", "5"], ["slow_reply", "slow_reply"], "  too slow ")
    assert low.reason_tags == ("slow_reply",) and low.comment == "too slow" and low.low
    high = domain.make_answer(["5", "4", "5"], ["slow_reply"], "fine")
    assert high.reason_tags == () and high.comment == ""


@pytest.mark.parametrize(
    ("scores", "tags", "comment", "reason"),
    [
        (["5", "5"], [], "", "scores"),
        (["5", "5", "6"], [], "", "scores"),
        (["5", "0", "5"], [], "", "scores"),
        (["5", "", "5"], [], "", "scores"),
        (["5", "4.5", "5"], [], "", "scores"),
        (["1", "1", "1"], ["<script>"], "", "tags"),
        (["1", "1", "1"], [], "x" * 1001, "comment"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(scores: list[str], tags: list[str], comment: str, reason: str) -> None:
    with pytest.raises(domain.Refused) as caught:
        domain.make_answer(scores, tags, comment)
    assert caught.value.reason == reason


def test_a_survey_is_answered_once_and_only_while_it_is_open() -> None:
    expires = T0 + timedelta(days=7)
    domain.answerable(SurveyStatus.SENT, expires, T0)
    for status, now, reason in [
        (SurveyStatus.ANSWERED, T0, "answered"),
        (SurveyStatus.EXPIRED, T0, "expired"),
        (SurveyStatus.SENT, expires, "expired"),
        (SurveyStatus.SCHEDULED, T0, "not_sent"),
    ]:
        with pytest.raises(domain.Refused) as caught:
            domain.answerable(status, expires, now)
        assert caught.value.reason == reason


def test_the_link_opens_one_survey_until_it_expires_and_cannot_be_forged() -> None:
    expires = T0 + timedelta(days=7)
    token = domain.sign_token(42, expires, "s3cret")
    assert domain.read_token(token, "s3cret", T0) == 42
    with pytest.raises(domain.ExpiredToken):
        domain.read_token(token, "s3cret", expires)
    with pytest.raises(domain.BadToken):
        domain.read_token(token, "another secret", T0)
    survey, when, mac = token.split(".")
    forgeries = [f"43.{when}.{mac}", f"{survey}.{int(when) + 3600}.{mac}", "", "a.b.c", "42..", "42.1.!!!", "x" * 500]
    for forged in forgeries:
        with pytest.raises(domain.BadToken):
            domain.read_token(forged, "s3cret", T0)
