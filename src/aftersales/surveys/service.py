"""Use cases of the surveys context: schedule a survey when a ticket is solved, send and expire
surveys when their time comes (the sweep), open and answer one from its link, and the results
for the ticket page and the supervisors.

Tickets are read through tickets.service, agents' names through identity.service; the customer
hears of a survey through the notifications context (the `survey.sent` event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.kit.errors import AppError, Conflict, Invalid, NotFound
from aftersales.messaging.outbox import publish_event
from aftersales.notifications import service as notifications
from aftersales.surveys import domain
from aftersales.surveys.domain import Answer, SubjectType, SurveyStatus
from aftersales.surveys.events import CsatSubmitted, SurveySent
from aftersales.surveys.models import Survey
from aftersales.surveys.repository import SurveysRepository
from aftersales.surveys.schemas import AgentLine, CsatReport, SurveyOut
from aftersales.tickets import service as tickets
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SYSTEM_ACTOR, Entry
from aftersales.timeline.domain import SubjectType as TimelineSubject

log = structlog.get_logger(__name__)
RECENT = 50
CASE_CHANNEL = "case"  # a case's survey is not a chat's: it leaves a day after the outcome


class LinkGone(AppError):
    """The survey's link has expired (410: it existed and is over)."""

    status_code = 410
    code = "gone"


def _secret() -> str:
    return get_settings().secret_key


def link_of(survey: Survey) -> str:
    """The path the customer opens, without a password: /surveys/<signed token>."""
    assert survey.expires_at is not None
    return f"/surveys/{domain.sign_token(survey.id, clock.ensure_utc(survey.expires_at), _secret())}"


# --- scheduling and sending ---------------------------------------------------------------------
def schedule_for_ticket(db: Database, number: str) -> SurveyOut | None:
    """A ticket was solved: one survey per ticket, due at once for a chat and a day later otherwise.
    Solved again after a reopen, a survey not yet sent waits for the new solve (and credits whoever
    replied since); one already sent is not sent again. None when nobody can be asked (no
    customer account behind the ticket)."""
    facts = tickets.survey_facts(db, number)
    if facts is None or facts.customer_id is None or facts.solved_at is None:
        return None
    subject = _Subject(
        SubjectType.TICKET, facts.number, facts.ticket_id, facts.customer_id, facts.channel, facts.merchant_id,
        facts.order_number, facts.agent_ids,
    )  # fmt: skip
    return _schedule(db, subject, clock.ensure_utc(facts.solved_at))


def schedule_for_case(
    db: Database, number: str, case_id: int, customer_id: int | None, merchant_id: int | None, order_number: str,
    closed_at: datetime,
) -> SurveyOut | None:  # fmt: skip
    """An after-sales case reached its outcome (completed or rejected): one survey per case, a day
    later (a case is not a live conversation)."""
    if customer_id is None:
        return None
    subject = _Subject(SubjectType.CASE, number, case_id, customer_id, CASE_CHANNEL, merchant_id, order_number, [])
    return _schedule(db, subject, clock.ensure_utc(closed_at))


@dataclass(frozen=True, slots=True)
class _Subject:
    kind: SubjectType
    ref: str
    row_id: int
    customer_id: int
    channel: str
    merchant_id: int | None
    order_number: str
    agent_ids: list[int]


def _schedule(db: Database, subject: _Subject, closed_at: datetime) -> SurveyOut | None:
    due = domain.send_at(subject.channel, closed_at)
    with db.write() as uow:
        repo = SurveysRepository(uow.session)
        survey = repo.by_subject(subject.kind.value, subject.ref, lock=True)
        if survey is None:
            survey = Survey(
                subject_type=subject.kind.value,
                subject_ref=subject.ref,
                subject_id=subject.row_id,
                status=SurveyStatus.SCHEDULED.value,
                customer_id=subject.customer_id,
                channel=subject.channel,
                merchant_id=subject.merchant_id,
                order_number=subject.order_number,
                agent_ids=subject.agent_ids,
                closed_at=closed_at,
                due_at=due,
                next_check_at=due,
                reason_tags=[],
                comment="",
                created_at=clock.now(),
            )
            repo.add(survey)
        elif survey.status == SurveyStatus.SCHEDULED.value:
            survey.closed_at, survey.due_at, survey.next_check_at = closed_at, due, due
            survey.agent_ids = subject.agent_ids
        try:
            uow.commit()
        except IntegrityError:  # another delivery of the same event created it first
            uow.session.rollback()
            return None
        survey_id = survey.id
    if due <= clock.now():
        sweep(db)  # a chat's survey leaves as the chat closes
    return survey_by_id(db, survey_id)


def _record(session: Session, survey: Survey, action: str, at: datetime) -> None:
    """The audit line on the ticket or case: the survey sent, answered or lapsed (staff only; the
    action says it all, so no states: the subject's own states are not the survey's)."""
    timeline.record(
        session,
        Entry(
            subject_type=TimelineSubject(survey.subject_type),
            subject_id=survey.subject_id,
            action=action,
            actor=SYSTEM_ACTOR,
            occurred_at=at,
            customer_visible=False,
        ),
    )


def _send(session: Session, survey: Survey, now: datetime) -> None:
    survey.status = SurveyStatus.SENT.value
    survey.sent_at = now
    survey.expires_at = domain.expires_at(now)
    survey.next_check_at = survey.expires_at
    _record(session, survey, "survey.sent", now)
    publish_event(
        session,
        SurveySent(
            survey_id=survey.id,
            customer_id=survey.customer_id,
            subject_type=survey.subject_type,
            subject_ref=survey.subject_ref,
            order_number=survey.order_number,
            survey_link=link_of(survey),
            expires_at=survey.expires_at.isoformat(),
            occurred_at=now.isoformat(),
        ),
        idempotency_key=f"survey-sent:{survey.id}",
    )


def sweep(db: Database, now: datetime | None = None, batch: int = 200) -> int:
    """Send the surveys whose time has come and expire those unanswered for 7 days. Reads only
    what is due (the index on next_check_at); safe with several workers (SKIP LOCKED on
    PostgreSQL). A survey leaves once: once sent its next check is its expiry."""
    now = clock.ensure_utc(now or clock.now())
    changed = 0
    while True:
        with db.write() as uow:
            rows = SurveysRepository(uow.session).due(now, batch, skip_locked=not db.is_sqlite)
            for survey in rows:
                if survey.status == SurveyStatus.SCHEDULED.value:
                    _send(uow.session, survey, now)
                elif survey.status == SurveyStatus.SENT.value:
                    survey.status = SurveyStatus.EXPIRED.value
                    survey.next_check_at = None
                    _record(uow.session, survey, "survey.expired", now)
                else:
                    survey.next_check_at = None
                changed += 1
            uow.commit()
        if len(rows) < batch:
            break
    if changed:
        log.info("surveys.swept", changed=changed)
    return changed


# --- the customer's page ------------------------------------------------------------------------
def _survey_for_link(repo: SurveysRepository, token: str, *, lock: bool = False) -> Survey:
    try:
        survey_id = domain.read_token(token, _secret(), clock.now())
    except domain.ExpiredToken as exc:
        raise LinkGone(
            "This survey has expired: surveys can be answered for 7 days.", key="surveys.error.expired"
        ) from exc
    except domain.BadToken as exc:
        raise NotFound(
            "This survey link is not valid. Open it again from the message we sent you.", key="surveys.error.bad_link"
        ) from exc
    survey = repo.by_id(survey_id, lock=lock)
    if survey is None:
        raise NotFound(
            "This survey link is not valid. Open it again from the message we sent you.", key="surveys.error.bad_link"
        )
    return survey


def answered_already() -> Conflict:
    return Conflict("This survey has already been answered. Thank you!", key="surveys.error.answered")


def open_survey(db: Database, token: str) -> SurveyOut:
    """The survey a link opens, while it may be answered; a 4xx that says why otherwise."""
    with db.read() as uow:
        survey = _survey_for_link(SurveysRepository(uow.session), token)
        if survey.status == SurveyStatus.EXPIRED.value:
            raise LinkGone("This survey has expired: surveys can be answered for 7 days.", key="surveys.error.expired")
        if survey.status == SurveyStatus.ANSWERED.value:
            raise answered_already()
        return _out(uow.session, survey, names=False)


def answer(db: Database, token: str, scores: list[str], tags: list[str], comment: str) -> SurveyOut:
    """Record the customer's answer, once; the scores leave as `csat.submitted`."""
    now = clock.now()
    with db.write() as uow:
        survey = _survey_for_link(SurveysRepository(uow.session), token, lock=True)
        try:
            expires = clock.ensure_utc(survey.expires_at) if survey.expires_at else None
            domain.answerable(SurveyStatus(survey.status), expires, now)
            given = domain.make_answer(scores, tags, comment)
        except domain.Refused as exc:
            raise _refusal(exc) from exc
        _record_answer(uow.session, survey, given, now)
        uow.commit()
        return _out(uow.session, survey, names=False)


def _refusal(exc: domain.Refused) -> AppError:
    key = f"surveys.error.{exc.reason}"
    if exc.reason == "expired":
        return LinkGone(str(exc), key=key)
    if exc.reason in ("answered", "not_sent"):
        return Conflict(str(exc), key=key)
    return Invalid(str(exc), key=key, most=domain.COMMENT_MAX)


def _record_answer(session: Session, survey: Survey, given: Answer, now: datetime) -> None:
    survey.status = SurveyStatus.ANSWERED.value
    survey.answered_at = now
    survey.next_check_at = None
    survey.result, survey.speed, survey.attitude = given.scores
    survey.reason_tags = list(given.reason_tags)
    survey.comment = given.comment
    _record(session, survey, "survey.answered", now)
    ticket = survey.subject_ref if survey.subject_type == SubjectType.TICKET.value else ""
    publish_event(
        session,
        CsatSubmitted(
            survey_id=survey.id,
            subject_type=survey.subject_type,
            ticket_number=ticket,
            case_number="" if ticket else survey.subject_ref,
            order_number=survey.order_number,
            customer_id=survey.customer_id,
            merchant_id=survey.merchant_id,
            channel=survey.channel,
            agent_ids=list(survey.agent_ids or []),
            result=given.result,
            speed=given.speed,
            attitude=given.attitude,
            reason_tags=list(given.reason_tags),
            comment=given.comment,
            sent_at=clock.ensure_utc(survey.sent_at).isoformat() if survey.sent_at else "",
            answered_at=now.isoformat(),
        ),
        idempotency_key=f"csat-submitted:{survey.id}",
    )


# --- reading ------------------------------------------------------------------------------------
def _out(session: Session, survey: Survey, *, names: bool) -> SurveyOut:
    agents = list(survey.agent_ids or [])
    named = identity.display_names_in(session, agents) if names and agents else {}
    return SurveyOut(
        id=survey.id,
        subject_type=survey.subject_type,
        subject_ref=survey.subject_ref,
        status=survey.status,
        channel=survey.channel,
        order_number=survey.order_number,
        due_at=clock.ensure_utc(survey.due_at),
        sent_at=survey.sent_at and clock.ensure_utc(survey.sent_at),
        expires_at=survey.expires_at and clock.ensure_utc(survey.expires_at),
        answered_at=survey.answered_at and clock.ensure_utc(survey.answered_at),
        result=survey.result,
        speed=survey.speed,
        attitude=survey.attitude,
        reason_tags=list(survey.reason_tags or []),
        comment=survey.comment,
        agent_names=[named.get(a, f"#{a}") for a in agents] if names else [],
    )


def scheduled_sends(db: Database) -> list[datetime]:
    """When scheduled surveys are due to leave, earliest first (the demo lives its past by them)."""
    with db.read() as uow:
        return [clock.ensure_utc(at) for at in SurveysRepository(uow.session).due_times(SurveyStatus.SCHEDULED.value)]


def awaiting_answers(db: Database) -> list[tuple[SurveyOut, str]]:
    """Surveys sent and not yet answered, with the link each customer was given."""
    with db.read() as uow:
        return [
            (_out(uow.session, s, names=False), link_of(s)) for s in SurveysRepository(uow.session).sent_unanswered()
        ]


def survey_by_id(db: Database, survey_id: int) -> SurveyOut | None:
    with db.read() as uow:
        survey = SurveysRepository(uow.session).by_id(survey_id)
        return _out(uow.session, survey, names=True) if survey is not None else None


def for_ticket(db: Database, number: str) -> SurveyOut | None:
    """The survey of a ticket, for its page in the desk (the caller checked the viewer may see it)."""
    with db.read() as uow:
        survey = SurveysRepository(uow.session).by_subject(SubjectType.TICKET.value, number)
        return _out(uow.session, survey, names=True) if survey is not None else None


def report(db: Database, since: datetime, until: datetime) -> CsatReport:
    """CSAT of the responses received in [since, until), per dimension and headline, overall and by
    agent; the response rate of the surveys sent in the same range; the latest responses."""
    if until <= since:
        raise Invalid("The end of the range must come after its start.", key="surveys.error.range")
    with db.read() as uow:
        repo = SurveysRepository(uow.session)
        answered = repo.answered_between(since, until)
        responses = [
            domain.Response(s.result or 0, s.speed or 0, s.attitude or 0, tuple(s.agent_ids or [])) for s in answered
        ]
        sent = repo.sent_between(since, until)
        done = [agents for status, agents in sent if status == SurveyStatus.ANSWERED.value]
        sent_per_agent = domain.credited(a for _, agents in sent for a in dict.fromkeys(agents))
        answered_per_agent = domain.credited(a for agents in done for a in dict.fromkeys(agents))
        per_agent = domain.by_agent(responses, sent_per_agent, answered_per_agent)
        names = identity.display_names_in(uow.session, list(per_agent)) if per_agent else {}
        return CsatReport(
            since=since,
            until=until,
            total=domain.summarise(responses, len(sent), len(done)),
            agents=[AgentLine(a, names.get(a, f"#{a}"), s) for a, s in per_agent.items()],
            recent=[_out(uow.session, s, names=True) for s in answered[:RECENT]],
        )


def on_csat_submitted(db: Database, survey_id: int, key: str) -> int:
    """A low answer (any score of 1 or 2) alerts every active supervisor, once per answer, so
    someone calls the customer back while it still matters."""
    survey = survey_by_id(db, survey_id)
    if survey is None or survey.status != SurveyStatus.ANSWERED.value:
        return 0
    if min(survey.result or 5, survey.speed or 5, survey.attitude or 5) > domain.ALERT_SCORE:
        return 0
    supervisors = [(u.id, u.locale) for u in identity.list_users(db, Role.SUPERVISOR.value) if u.active]
    if survey.subject_type == SubjectType.CASE.value:
        return notifications.alert_staff(db, supervisors, "staff.csat_low_case", {"case": survey.subject_ref}, key)
    return notifications.alert_staff(db, supervisors, "staff.csat_low", {"ticket": survey.subject_ref}, key)
