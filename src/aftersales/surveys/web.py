"""Pages of the surveys context: the customer's survey (opened from the email's link, no password),
the survey's result on a ticket in the desk, and the supervisors' CSAT page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid
from aftersales.surveys import domain, service
from aftersales.tickets import service as tickets
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.i18n import error_text
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request.
router = APIRouter(include_in_schema=False)
DESK = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN, Role.MERCHANT, Role.ARBITRATOR)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOKEN_MAX = 80


def _problem(request: Request, exc: AppError) -> Response:
    return render(
        request,
        "surveys/problem.html",
        status_code=exc.status_code,
        message=error_text(exc, request.state.lang),
        answered=exc.details.get("key") == "surveys.error.answered",
    )


def _form(
    request: Request, db: Database, token: str, status_code: int = 200, error: str = "", **given: object
) -> Response:
    survey = service.open_survey(db, token)
    return render(
        request,
        "surveys/survey.html",
        status_code=status_code,
        survey=survey,
        token=token,
        dimensions=domain.DIMENSIONS,
        tags=[(key, domain.reason_label(key, request.state.lang)) for key in domain.REASON_TAGS],
        error=error,
        given=given,
    )


@router.get("/surveys/{token}", response_class=HTMLResponse)
def survey_page(request: Request, token: str, db: Database = Depends(get_db)) -> Response:
    """The survey a link opens; a forged, expired or answered link gets a page that says which."""
    try:
        return _form(request, db, token[:TOKEN_MAX])
    except AppError as exc:
        return _problem(request, exc)


@router.post("/surveys/{token}", response_class=HTMLResponse)
def answer_survey(
    request: Request,
    token: str,
    result: Annotated[str, Form(max_length=2)] = "",
    speed: Annotated[str, Form(max_length=2)] = "",
    attitude: Annotated[str, Form(max_length=2)] = "",
    tags: Annotated[list[str] | None, Form(max_length=12)] = None,
    comment: Annotated[str, Form(max_length=domain.COMMENT_MAX * 4)] = "",
    db: Database = Depends(get_db),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    chosen = [t[:32] for t in (tags or [])]
    try:
        survey = service.answer(db, token[:TOKEN_MAX], [result, speed, attitude], chosen, comment)
    except Invalid as exc:
        try:
            return _form(
                request,
                db,
                token[:TOKEN_MAX],
                exc.status_code,
                error_text(exc, request.state.lang),
                result=result,
                speed=speed,
                attitude=attitude,
                tags=chosen,
                comment=comment[: domain.COMMENT_MAX],
            )
        except AppError as again:
            return _problem(request, again)
    except AppError as exc:
        return _problem(request, exc)
    return render(request, "surveys/thanks.html", survey=survey)


@router.get("/desk/tickets/{number}/survey", response_class=HTMLResponse)
def ticket_survey(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*DESK)),
) -> Response:
    """The survey's result in the ticket's sidebar (a fragment the ticket page loads)."""
    tickets.get_ticket(db, number[:24], principal)  # 404 unless the viewer may see the ticket
    survey = service.for_ticket(db, number[:24])
    labels = {key: domain.reason_label(key, request.state.lang) for key in domain.REASON_TAGS}
    return render(request, "surveys/_ticket.html", survey=survey, labels=labels, dimensions=domain.DIMENSIONS)


def _day(text: str, fallback: date) -> date:
    if not text.strip():
        return fallback
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise Invalid("Enter dates as YYYY-MM-DD.", key="surveys.error.date") from exc


@router.get("/supervisor/csat", response_class=HTMLResponse)
def csat_page(
    request: Request,
    since: Annotated[str, Query(max_length=10, alias="from")] = "",
    until: Annotated[str, Query(max_length=10, alias="to")] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUPERVISORS)),
) -> Response:
    """Responses and CSAT between two local dates (both included), by agent; the last 30 days unless
    asked otherwise."""
    zone = get_settings().zone
    today = clock.now().astimezone(zone).date()
    error, status_code = "", 200
    try:
        first = _day(since, today - timedelta(days=DEFAULT_DAYS - 1))
        last = _day(until, today)
        if last < first:
            raise Invalid("The end of the range must come after its start.", key="surveys.error.range")
        if (last - first).days >= MAX_DAYS:
            raise Invalid("Choose a range of at most a year.", key="surveys.error.too_long")
    except AppError as exc:
        error, status_code = error_text(exc, request.state.lang), exc.status_code
        first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    start = datetime.combine(first, time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    report = service.report(db, start, end)
    labels = {key: domain.reason_label(key, request.state.lang) for key in domain.REASON_TAGS}
    return render(
        request,
        "surveys/csat.html",
        status_code=status_code,
        report=report,
        first=first,
        last=last,
        error=error,
        pct=domain.percent,
        labels=labels,
    )
