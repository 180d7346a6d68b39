"""Pages of the proactive context: the customer's notice with its answer and one-tap actions, and
the supervisors' list of open incidents with their time to notice."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.proactive import service
from aftersales.web.deps import get_db, page_principal
from aftersales.web.templating import render

router = APIRouter(include_in_schema=False)
READERS = (Role.CUSTOMER, Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)


@router.get("/notices/{incident_id}", response_class=HTMLResponse)
def notice_page(
    request: Request,
    incident_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    view = service.notice(db, incident_id, principal, request.state.lang)
    return render(request, "proactive/notice.html", notice=view)


@router.get("/supervisor/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.SUPERVISOR, Role.ADMIN)),
) -> Response:
    rows = service.open_incidents(db)
    median = service.time_to_notice(rows)
    return render(
        request,
        "proactive/incidents.html",
        incidents=rows,
        median_minutes=int(median.total_seconds() // 60) if median is not None else None,
    )
