"""The managers' and supervisors' service dashboard: KPIs by day, agent, team, channel and merchant,
read from the daily rollups, with charts, a drill-down from each number to the tickets behind it,
and CSV / Excel export of the table."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from aftersales.analytics import export, service
from aftersales.analytics.domain import AGE_BANDS_HOURS, DASHBOARD_DIMS, DimType
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid
from aftersales.web.deps import get_db, page_principal
from aftersales.web.i18n import error_text
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (query fields and their limits, role) to check the request.
router = APIRouter(include_in_schema=False)
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)
DEFAULT_DAYS = 14


def _period(start: str, end: str) -> tuple[date, date]:
    """The period the page shows: [start, end] as local days, by default the last 14 days."""
    today = service.local_date(clock.now())
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise Invalid("Dates are written like 2026-11-11.", key="analytics.error.date") from None
    service.checked_range(first, last)
    return first, last


def _dim(by: str) -> DimType:
    dim = next((d for d in DASHBOARD_DIMS if d.value == (by or DimType.AGENT.value)), None)
    if dim is None:
        raise Invalid("Group by day, agent, team, channel or merchant.", key="analytics.error.by")
    return dim


def _query(board: service.Dashboard) -> str:
    return f"from={board.first.isoformat()}&to={board.last.isoformat()}"


def _chart(days: list[service.KpiRow]) -> dict[str, list[object]]:
    """What the page's charts draw (the server computes every number; the script only draws)."""
    minutes = [None if d.frt_p50_s is None else round(d.frt_p50_s / 60, 1) for d in days]
    return {
        "labels": [d.key[5:] for d in days],
        "contacts": [d.contacts for d in days],
        "resolved": [d.resolved for d in days],
        "frt_p50_min": list(minutes),
        "frt_p90_min": [None if d.frt_p90_s is None else round(d.frt_p90_s / 60, 1) for d in days],
        "sla": [None if d.sla_percent is None else round(d.sla_percent * 100, 1) for d in days],
    }


@router.get("/supervisor/analytics", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    by: Annotated[str, Query(max_length=16)] = "agent",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*MANAGERS)),
) -> Response:
    try:
        first, last = _period(start, end)
        dim = _dim(by)
    except AppError as exc:
        first, last = _period("", "")
        board = service.dashboard(db, first, last, DimType.AGENT)
        return render(request, "analytics/dashboard.html", status_code=exc.status_code, board=board,
                      chart=_chart(board.days), dims=DASHBOARD_DIMS, bands=AGE_BANDS_HOURS, query=_query(board),
                      teams=service.team_names(db, request.state.lang),
                      error=error_text(exc, request.state.lang))  # fmt: skip
    board = service.dashboard(db, first, last, dim)
    return render(request, "analytics/dashboard.html", board=board, chart=_chart(board.days), dims=DASHBOARD_DIMS,
                  bands=AGE_BANDS_HOURS, query=_query(board), teams=service.team_names(db, request.state.lang),
                  error="")  # fmt: skip


@router.get("/supervisor/analytics/drill", response_class=HTMLResponse)
def drill_page(
    request: Request,
    metric: Annotated[str, Query(max_length=32)],
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    by: Annotated[str, Query(max_length=16)] = "all",
    key: Annotated[str, Query(alias="id", max_length=64)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*MANAGERS)),
) -> Response:
    try:
        first, last = _period(start, end)
        dim = _dim(by)
        rows = service.drill(db, metric, first, last, dim, key if dim is not DimType.ALL else None)
    except AppError as exc:
        return render(request, "analytics/drill.html", status_code=exc.status_code, rows=[], metric=metric[:32],
                      first=None, last=None, dim="", key="", limit=service.DRILL_LIMIT, teams={},
                      error=error_text(exc, request.state.lang))  # fmt: skip
    return render(request, "analytics/drill.html", rows=rows, metric=metric, first=first, last=last, dim=dim.value,
                  key=key, limit=service.DRILL_LIMIT, teams=service.team_names(db, request.state.lang),
                  error="")  # fmt: skip


@router.get("/supervisor/analytics/export.{fmt}")
def export_table(
    request: Request,
    fmt: str,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    by: Annotated[str, Query(max_length=16)] = "agent",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*MANAGERS)),
) -> Response:
    try:
        if fmt not in ("csv", "xlsx"):
            raise Invalid("Export as .csv or .xlsx.", key="analytics.error.format")
        first, last = _period(start, end)
        dim = _dim(by)
    except AppError as exc:
        return Response(error_text(exc, request.state.lang), status_code=exc.status_code, media_type="text/plain")
    board = service.dashboard(db, first, last, dim)
    records = service.export_rows(board)
    name = f"kpis-{dim.value}-{first.isoformat()}-{last.isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(export.csv_bytes(records), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(export.xlsx_bytes(records), headers=headers,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip
