"""The supervisors' staffing page: the next days' forecast per skill group and 30-minute interval,
as a chart against the roster with the short intervals marked, and the roster form."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid
from aftersales.routing import service as routing
from aftersales.scheduling import planning, service
from aftersales.scheduling.schemas import RosterIn
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.i18n import error_text
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request.
router = APIRouter(include_in_schema=False)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)


def _page(request: Request, db: Database, days: int, *, status_code: int = 200, error: str = "",
          saved: int | None = None) -> Response:  # fmt: skip
    zone = get_settings().zone
    plan = service.staffing_plan(db, zone, days)
    names = routing.group_names(db, request.state.lang)
    labels = [f"{i.start:%m-%d %H:%M}" for i in plan.groups[0].intervals] if plan.groups else []
    charts = {g.key: planning.chart_data(g, labels) for g in plan.groups}
    today = plan.days[0]
    return render(
        request,
        "scheduling/staffing.html",
        status_code=status_code,
        plan=plan,
        days=days,
        names=names,
        charts=charts,
        group_keys=[*names, planning.CASES_GROUP] if names else [planning.ALL_GROUPS, planning.CASES_GROUP],
        roster_days=[today + timedelta(days=i) for i in range(-1, service.ROSTER_DAYS_AHEAD + 1)],
        today=today,
        lines=planning.LINES,
        error=error,
        saved=saved,
    )


@router.get("/supervisor/staffing", response_class=HTMLResponse)
def staffing_page(
    request: Request,
    days: Annotated[str, Query(max_length=2)] = "3",
    saved: Annotated[str, Query(max_length=4)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUPERVISORS)),
) -> Response:
    if not days.isdigit() or not 1 <= int(days) <= service.MAX_DAYS:
        exc = Invalid("Forecast 1 to 7 days ahead.", key="scheduling.error.days", most=service.MAX_DAYS)
        return _page(request, db, 3, status_code=exc.status_code, error=error_text(exc, request.state.lang))
    return _page(request, db, int(days), saved=int(saved) if saved.isdigit() else None)


@router.post("/supervisor/staffing/roster", response_class=HTMLResponse)
def set_roster(
    request: Request,
    group_key: Annotated[str, Form(max_length=64)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    start: Annotated[str, Form(max_length=5)] = "",
    end: Annotated[str, Form(max_length=5)] = "",
    agents: Annotated[str, Form(max_length=6)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUPERVISORS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    try:
        if not agents.strip().isdigit() or int(agents) > 100_000:
            raise Invalid("Enter the number of agents on shift (0 or more).", key="scheduling.error.agents")
        try:
            when = date.fromisoformat(day.strip())
        except ValueError as exc:
            raise Invalid("Choose the day of the shift.", key="scheduling.error.day") from exc
        data = RosterIn(group_key=group_key.strip() or "-", day=when, start=start, end=end, agents=int(agents))
        count = service.set_roster(db, get_settings().zone, data, principal)
    except AppError as exc:
        return _page(request, db, 3, status_code=exc.status_code, error=error_text(exc, request.state.lang))
    return RedirectResponse(f"/supervisor/staffing?saved={count}", status_code=303)
