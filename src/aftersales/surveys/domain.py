"""Satisfaction surveys (满意度调查): when a survey is sent and when it lapses, the three questions and
the reason tags, the answer's rules, the single-survey link, and the CSAT formulas.

Pure: no database, no clock (callers pass `now`), no settings (callers pass the secret).
Definitions and their sources: docs/csat.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

SEND_DELAY = timedelta(hours=24)  # after close, for every channel but chat (Zendesk's default)
EXPIRES_AFTER = timedelta(days=7)  # from when the survey is sent
LOW_SCORE = 3  # any score at or under this asks for the reasons
ALERT_SCORE = 2  # any score at or under this alerts the supervisors
COMMENT_MAX = 1000
CHAT = "chat"


class SurveyStatus(StrEnum):
    SCHEDULED = "scheduled"  # the subject closed; the survey leaves at due_at
    SENT = "sent"  # the customer was told; answerable until expires_at
    ANSWERED = "answered"  # final
    EXPIRED = "expired"  # final: seven days passed without an answer


class SubjectType(StrEnum):
    TICKET = "ticket"
    CASE = "case"


class Dimension(StrEnum):
    RESULT = "result"  # 解决结果
    SPEED = "speed"  # 响应速度
    ATTITUDE = "attitude"  # 服务态度


DIMENSIONS: tuple[Dimension, ...] = (Dimension.RESULT, Dimension.SPEED, Dimension.ATTITUDE)

# The fixed list of reasons offered when a score is low, in both languages (key → zh-CN, en).
REASON_TAGS: dict[str, tuple[str, str]] = {
    "not_solved": ("问题没有解决", "My problem was not solved"),
    "slow_reply": ("回复太慢", "Replies were slow"),
    "repeat_myself": ("需要反复说明问题", "I had to explain it again and again"),
    "wrong_answer": ("答复不准确", "The answer was wrong"),
    "attitude": ("客服态度不好", "The agent was unfriendly"),
    "compensation": ("补偿不合理", "The compensation was not fair"),
    "too_many_steps": ("流程太复杂", "Too many steps"),
    "other": ("其他", "Something else"),
}


def reason_label(tag: str, lang: str) -> str:
    zh, en = REASON_TAGS.get(tag, (tag, tag))
    return zh if lang.startswith("zh") else en


# --- when ---------------------------------------------------------------------------------------
def send_at(channel: str, closed_at: datetime) -> datetime:
    """A chat is surveyed as it closes (the customer is still there); any other channel a day
    later, when the outcome has had time to show."""
    return closed_at if channel == CHAT else closed_at + SEND_DELAY


def expires_at(sent_at: datetime) -> datetime:
    return sent_at + EXPIRES_AFTER


class Refused(ValueError):
    """An answer the survey does not take; `reason` says which rule refused it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def answerable(status: SurveyStatus, expires: datetime | None, now: datetime) -> None:
    """Raise Refused unless the survey may be answered at `now`."""
    if status is SurveyStatus.ANSWERED:
        raise Refused("answered", "This survey has already been answered. Thank you!")
    if status is SurveyStatus.EXPIRED or (expires is not None and now >= expires):
        raise Refused("expired", "This survey has expired: surveys can be answered for 7 days.")
    if status is not SurveyStatus.SENT:
        raise Refused("not_sent", "This survey has not been sent yet.")


# --- the answer -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Answer:
    result: int
    speed: int
    attitude: int
    reason_tags: tuple[str, ...] = ()
    comment: str = ""

    @property
    def scores(self) -> tuple[int, int, int]:
        return (self.result, self.speed, self.attitude)

    @property
    def low(self) -> bool:
        return any(s <= LOW_SCORE for s in self.scores)


def parse_score(raw: object) -> int | None:
    """A score as posted ("1"…"5"); None for anything else."""
    text = str(raw).strip() if raw is not None else ""
    return int(text) if text in {"1", "2", "3", "4", "5"} else None


def make_answer(scores: Sequence[object], tags: Iterable[str], comment: str) -> Answer:
    """Check a posted answer: three scores 1–5, tags from the fixed list; reasons and a comment are
    kept only when a score is 3 or lower (they are asked for only then)."""
    parsed = [parse_score(s) for s in scores]
    if len(parsed) != 3 or any(p is None for p in parsed):
        raise Refused("scores", "Give each of the three questions a score from 1 to 5.")
    result, speed, attitude = (int(p or 0) for p in parsed)
    chosen = tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))
    unknown = [t for t in chosen if t not in REASON_TAGS]
    if unknown:
        raise Refused("tags", "Choose reasons from the list.")
    text = comment.strip()
    if len(text) > COMMENT_MAX:
        raise Refused("comment", f"Keep the comment under {COMMENT_MAX} characters.")
    answer = Answer(result, speed, attitude)
    if not answer.low:
        return answer
    return Answer(result, speed, attitude, chosen, text)


# --- the link in the email: signed, expiring, one survey ---------------------------------------------
class BadToken(ValueError):
    pass


class ExpiredToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), b"survey:" + payload.encode("ascii"), hashlib.sha256).digest()
    return _b64(digest[:18])


def sign_token(survey_id: int, expires: datetime, secret: str) -> str:
    """`<survey id>.<expiry, unix seconds>.<HMAC>`, URL-safe: it opens one survey until it expires,
    with no password (the email is the credential, as with Zendesk's survey links)."""
    if not secret:
        raise ValueError("a survey link needs the application's secret key")
    payload = f"{survey_id}.{int(expires.timestamp())}"
    return f"{payload}.{_mac(payload, secret)}"


def read_token(token: str, secret: str, now: datetime) -> int:
    """The survey id a link opens; BadToken for anything forged or malformed, ExpiredToken after
    its expiry."""
    parts = token.strip().split(".")
    if len(token) > 80 or len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or not secret:
        raise BadToken("not a survey link")
    payload = f"{parts[0]}.{parts[1]}"
    try:
        given = _unb64(parts[2])
    except (ValueError, TypeError) as exc:
        raise BadToken("not a survey link") from exc
    if not hmac.compare_digest(given, _unb64(_mac(payload, secret))):
        raise BadToken("not a survey link")
    if now >= datetime.fromtimestamp(int(parts[1]), tz=UTC):
        raise ExpiredToken("the survey link has expired")
    return int(parts[0])


# --- the formulas ---------------------------------------------------------------------------------
def dimension_csat(scores: Iterable[int]) -> Fraction | None:
    """Per-dimension CSAT: the share of answers scoring 4 or 5 (None with no answers)."""
    values = list(scores)
    if not values:
        return None
    return Fraction(sum(1 for s in values if s >= 4), len(values))


def headline_csat(answers: Iterable[Sequence[int]]) -> Fraction | None:
    """Headline CSAT: the share of responses whose mean of the three scores is 4 or more (compared
    as a sum, so no rounding decides it)."""
    rows = [tuple(a) for a in answers]
    if not rows:
        return None
    return Fraction(sum(1 for a in rows if sum(a) >= 4 * len(a)), len(rows))


def response_rate(answered: int, sent: int) -> Fraction | None:
    """Answered ÷ sent (None when nothing was sent)."""
    if sent <= 0:
        return None
    return Fraction(answered, sent)


def percent(share: Fraction | None) -> str:
    """A share as people read it: 66.7%, or — when there is nothing to measure."""
    if share is None:
        return "—"
    tenths = round(share * 1000)
    return f"{tenths // 10}.{tenths % 10}%" if tenths % 10 else f"{tenths // 10}%"


@dataclass(frozen=True, slots=True)
class Response:
    """One answered survey, as the formulas read it."""

    result: int
    speed: int
    attitude: int
    agent_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    responses: int
    sent: int
    result: Fraction | None
    speed: Fraction | None
    attitude: Fraction | None
    headline: Fraction | None
    response_rate: Fraction | None


def summarise(responses: Sequence[Response], sent: int, answered: int) -> Summary:
    """CSAT over the responses received, and the response rate of the surveys sent (`answered` of
    the `sent`, whenever they were answered)."""
    return Summary(
        responses=len(responses),
        sent=sent,
        result=dimension_csat(r.result for r in responses),
        speed=dimension_csat(r.speed for r in responses),
        attitude=dimension_csat(r.attitude for r in responses),
        headline=headline_csat((r.result, r.speed, r.attitude) for r in responses),
        response_rate=response_rate(answered, sent),
    )


def by_agent(
    responses: Sequence[Response], sent_per_agent: dict[int, int], answered_per_agent: dict[int, int]
) -> dict[int, Summary]:
    """Each agent's summary: a survey counts for every agent who replied publicly on it."""
    mine: dict[int, list[Response]] = {}
    for r in responses:
        for agent in dict.fromkeys(r.agent_ids):
            mine.setdefault(agent, []).append(r)
    agents = set(mine) | set(sent_per_agent)
    return {
        a: summarise(mine.get(a, []), sent_per_agent.get(a, 0), answered_per_agent.get(a, 0)) for a in sorted(agents)
    }


def credited(agent_ids: Iterable[int]) -> dict[int, int]:
    """How many surveys each agent is credited with, counting an agent once a survey."""
    counts: dict[int, int] = {}
    for agent in agent_ids:
        counts[agent] = counts.get(agent, 0) + 1
    return counts
