"""SLA admin pages (administrators edit, supervisors read): the policy matrix, the public days
past the Chinese calendar data, and each calendar's periods, closures and a deadline preview;
and the public page of the service desk's hours, read from its calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid, NotFound
from aftersales.sla import admin, service
from aftersales.sla.calendar import WEEKDAYS
from aftersales.sla.schemas import PolicyIn
from aftersales.web.deps import csrf_protect, get_db, optional_principal, page_principal
from aftersales.web.forms import statuses, submit, version_of
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
READERS = (Role.ADMIN, Role.SUPERVISOR)
ON = ("on", "true", "1")
EDITS = statuses(409, 422)  # a stale form or a refused value: the page again; anything else, the error page


@router.get("/service-hours", response_class=HTMLResponse)
def desk_hours_page(
    request: Request, db: Database = Depends(get_db), _: Principal | None = Depends(optional_principal)
) -> Response:
    """When people answer, for everyone (the help center links here): read from the desk's SLA
    calendar at request time, so it says what the deadlines count and follows an admin's edit."""
    return render(request, "sla/hours.html", hours=service.desk_hours(db), chat=service.channel_hours(db, "chat"))


def _int(text: str, what: str) -> int:
    if not text.strip().lstrip("-").isdigit():
        raise Invalid(f"{what} must be a whole number.")
    return int(text)


def _moment(text: str, what: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise Invalid(f"{what}: write a date and time like 2027-01-04T09:00.") from exc


def _overview_page(request: Request, db: Database, principal: Principal, status: int = 200, **extra: Any) -> Response:
    first, last = admin.data_years()
    return render(
        request,
        "sla/overview.html",
        status_code=status,
        policies=admin.list_policies(db),
        calendars=admin.list_calendars(db),
        public_days=admin.list_public_days(db),
        coverage=admin.coverage(db),
        data_first=first,
        data_last=last,
        can_edit=principal.has(Role.ADMIN),
        notice=request.query_params.get("notice", ""),
        **{"error": "", "error_policy": None, **extra},
    )


def _overview_again(request: Request, db: Database, principal: Principal) -> Callable[[AppError], Response]:
    return lambda exc: _overview_page(request, db, principal, exc.status_code, error=exc.message)


@router.get("/admin/sla", response_class=HTMLResponse)
def sla_page(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(*READERS))
) -> Response:
    return _overview_page(request, db, principal)


@router.post("/admin/sla/policies/{policy_id}", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def save_policy(
    request: Request,
    policy_id: int,
    target_minutes: Annotated[str, Form(max_length=12)] = "",
    warn_percent: Annotated[str, Form(max_length=4)] = "80",
    business_hours: Annotated[str, Form(max_length=8)] = "",
    calendar_key: Annotated[str, Form(max_length=64)] = "platform",
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:

    def save() -> None:
        try:
            data = PolicyIn(
                target_minutes=_int(target_minutes, "The target"),
                warn_percent=_int(warn_percent, "The warning percentage"),
                business_hours=business_hours in ON,
                calendar_key=calendar_key,
                version=version_of(version),
            )
        except ValidationError as exc:
            raise Invalid("Give a target of at least 1 minute and a warning between 5 and 99 percent.") from exc
        admin.update_policy(db, policy_id, data, principal)

    return submit(
        save,
        f"/admin/sla?notice=saved#policy-{policy_id}",
        lambda exc: _overview_page(request, db, principal, exc.status_code, error=exc.message, error_policy=policy_id),
        shown=statuses(404, 409, 422),
    )


@router.post("/admin/sla/public-days", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def save_public_day(
    request: Request,
    day: Annotated[str, Form(max_length=32)] = "",
    kind: Annotated[str, Form(max_length=16)] = "holiday",
    name: Annotated[str, Form(max_length=120)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:

    def save() -> None:
        try:
            parsed = date.fromisoformat(day.strip())
        except ValueError as exc:
            raise Invalid("Write the day as a date like 2027-02-06.") from exc
        admin.set_public_day(db, parsed, kind, name, principal)

    return submit(save, "/admin/sla?notice=saved#public-days", _overview_again(request, db, principal), shown=EDITS)


@router.post("/admin/sla/public-days/{day}/delete", dependencies=[Depends(csrf_protect)])
def delete_public_day(
    day: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    try:
        parsed = date.fromisoformat(day[:10])
    except ValueError as exc:
        raise Invalid("That is not a date; reload the page.") from exc
    admin.remove_public_day(db, parsed, principal)
    return RedirectResponse("/admin/sla?notice=saved#public-days", status_code=303)


# --- one calendar -------------------------------------------------------------------------------
def _calendar_page(
    request: Request, db: Database, principal: Principal, key: str, status: int = 200, **extra: Any
) -> Response:
    calendar = next((c for c in admin.list_calendars(db) if c.key == key[:64]), None)
    if calendar is None:
        raise NotFound(f"No SLA calendar '{key[:64]}'.")
    preview: datetime | None = None
    start_text = request.query_params.get("start", "")
    minutes_text = request.query_params.get("minutes", "")
    preview_error = ""
    if start_text and minutes_text:
        try:
            preview = admin.preview_deadline(
                db, calendar.key, _moment(start_text[:32], "Start"), _int(minutes_text[:8], "The minutes")
            )
        except AppError as exc:
            preview_error = exc.message
    context: dict[str, Any] = {
        "error": "",
        "periods": {day: ", ".join(f"{a}-{b}" for a, b in calendar.weekly.get(day, [])) for day in WEEKDAYS},
        "values": {
            "time_zone": calendar.time_zone,
            "chinese_holidays": calendar.chinese_holidays,
            "always_open": calendar.always_open,
        },
        **extra,
    }
    return render(
        request,
        "sla/calendar.html",
        status_code=status,
        calendar=calendar,
        weekdays=WEEKDAYS,
        can_edit=principal.has(Role.ADMIN),
        notice=request.query_params.get("notice", ""),
        preview=preview,
        preview_error=preview_error,
        start_text=start_text[:32],
        minutes_text=minutes_text[:8],
        **context,
    )


def _calendar_again(
    request: Request, db: Database, principal: Principal, key: str, **extra: Any
) -> Callable[[AppError], Response]:
    return lambda exc: _calendar_page(request, db, principal, key, exc.status_code, error=exc.message, **extra)


@router.get("/admin/sla/calendars/{key}", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    key: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    return _calendar_page(request, db, principal, key)


@router.post("/admin/sla/calendars/{key}", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
async def save_calendar(
    request: Request,
    key: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    form = await request.form()

    def field(name: str, limit: int = 200) -> str:
        value = form.get(name, "")
        return value[:limit] if isinstance(value, str) else ""

    periods = {day: field(f"periods_{day}") for day in WEEKDAYS}
    values = {
        "time_zone": field("time_zone", 64),
        "chinese_holidays": field("chinese_holidays", 8) in ON,
        "always_open": field("always_open", 8) in ON,
    }

    def save() -> None:
        admin.update_calendar(
            db,
            key[:64],
            periods=periods,
            time_zone=str(values["time_zone"]),
            chinese_holidays=bool(values["chinese_holidays"]),
            always_open=bool(values["always_open"]),
            version=version_of(field("version", 12)),
            by=principal,
        )

    again = _calendar_again(request, db, principal, key, periods=periods, values=values)
    return submit(save, f"/admin/sla/calendars/{key[:64]}?notice=saved", again, shown=EDITS)


@router.post("/admin/sla/calendars/{key}/closures", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def add_closure(
    request: Request,
    key: str,
    start: Annotated[str, Form(max_length=32)] = "",
    end: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    return submit(
        lambda: admin.add_closure(
            db, key[:64], _moment(start, "Start"), _moment(end, "End"), note, version_of(version), principal
        ),
        f"/admin/sla/calendars/{key[:64]}?notice=saved#closures",
        _calendar_again(request, db, principal, key),
        shown=EDITS,
    )


@router.post(
    "/admin/sla/calendars/{key}/closures/{index}/delete",
    response_class=HTMLResponse,
    dependencies=[Depends(csrf_protect)],
)
def remove_closure(
    request: Request,
    key: str,
    index: int,
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    return submit(
        lambda: admin.remove_closure(db, key[:64], index, version_of(version), principal),
        f"/admin/sla/calendars/{key[:64]}?notice=saved#closures",
        _calendar_again(request, db, principal, key),
        shown=statuses(409),
    )
