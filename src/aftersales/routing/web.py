"""Pages of routing: the supervisor's board (agents' load and status, queues, reassign), the
agent's own status switch (a fragment for the workspace header), and the administrators'
editor of agents' tiers, skills, groups and capacities."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid
from aftersales.messaging import live
from aftersales.routing import service
from aftersales.routing.domain import AgentStatus, Tier, WorkKind, parse_skills
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.forms import statuses, submit, version_of
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
AGENTS = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.MERCHANT)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Waiting this long counts as a warning on the board (the SLA context owns the real deadlines).
WAIT_WARNING_MINUTES = 30


def _board_page(
    request: Request, db: Database, *, block: str | None, status_code: int = 200, notice: str = "", error: str = ""
) -> Response:
    board = service.board(db)
    return render(
        request,
        "routing/supervisor.html",
        status_code=status_code,
        block=block,
        board=board,
        warn_minutes=WAIT_WARNING_MINUTES,
        names={a.user_id: a.display_name for a in board.agents},
        group_names=service.group_names(db, request.state.lang),
        notice=notice,
        error=error,
    )


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor_page(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(*SUPERVISORS))
) -> Response:
    block = "board" if request.headers.get("hx-request") else None
    return _board_page(request, db, block=block)


@router.get("/supervisor/stream")
async def supervisor_stream(principal: Principal = Depends(page_principal(*SUPERVISORS))) -> StreamingResponse:
    """Live signals for the board: a breach anywhere (desk:supervisor) and this person's alerts."""
    channels = ("desk:supervisor", live.user_channel(principal.user_id))
    return StreamingResponse(
        live.stream(*channels, viewer=principal), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.post("/supervisor/reassign", response_class=HTMLResponse)
def supervisor_reassign(
    request: Request,
    kind: Annotated[str, Form(max_length=8)] = "",
    ref: Annotated[str, Form(max_length=64)] = "",
    to_user_id: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUPERVISORS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    htmx = bool(request.headers.get("hx-request"))
    try:
        if not to_user_id.strip().isdigit():
            raise Invalid("Choose the agent who should take this work.")
        if kind not in {k.value for k in WorkKind}:
            raise Invalid("Choose a ticket or a chat to reassign.")
        done = service.supervisor_reassign(db, WorkKind(kind), ref.strip(), int(to_user_id), principal)
    except AppError as exc:
        # htmx swaps only 2xx answers, so the fragment carries its error with a 200.
        return _board_page(request, db, block="board" if htmx else None, status_code=200 if htmx else exc.status_code,
                      error=exc.message)  # fmt: skip
    if not htmx:
        return RedirectResponse("/supervisor", status_code=303)
    return _board_page(request, db, block="board", notice=f"{done.kind.value} {done.ref}")


def _status_fragment(request: Request, db: Database, principal: Principal, error: str = "") -> Response:
    return render(
        request,
        "routing/_status.html",
        me=service.my_profile(db, principal.user_id),
        statuses=list(AgentStatus),
        error=error,
    )


def _back(request: Request) -> str:
    """The page the switch was used on, as a local path only (never another site)."""
    parts = urlsplit(request.headers.get("referer", ""))
    if parts.netloc and parts.netloc != request.url.netloc:
        return "/"
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return f"{path}?{parts.query}" if parts.query and path != "/" else path


@router.get("/routing/status", response_class=HTMLResponse)
def status_switch(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(*AGENTS))
) -> Response:
    return _status_fragment(request, db, principal)


@router.post("/routing/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    status: Annotated[str, Form(max_length=8)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*AGENTS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    try:
        if status not in {s.value for s in AgentStatus}:
            raise Invalid("Choose online, away or offline.")
        service.change_status(db, principal, AgentStatus(status))
    except AppError as exc:
        if not request.headers.get("hx-request"):
            raise
        return _status_fragment(request, db, principal, error=exc.message)
    if not request.headers.get("hx-request"):
        return RedirectResponse(_back(request), status_code=303)
    return _status_fragment(request, db, principal)


def _admin_page(
    request: Request, db: Database, status_code: int = 200, error: str = "", failed_user: int | None = None
) -> Response:
    return render(
        request,
        "routing/admin.html",
        status_code=status_code,
        agents=service.board(db, limit=0).agents,
        groups=service.group_options(db),
        tiers=list(Tier),
        notice=request.query_params.get("notice", ""),
        error=error,
        failed_user=failed_user,
    )


@router.get("/admin/routing", response_class=HTMLResponse)
def routing_admin(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(Role.ADMIN))
) -> Response:
    return _admin_page(request, db)


@router.post("/admin/routing/sync", response_class=HTMLResponse)
def routing_sync(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    service.ensure_defaults(db)
    return RedirectResponse("/admin/routing?notice=synced", status_code=303)


@router.post("/admin/routing/agents/{user_id}", response_class=HTMLResponse)
async def routing_agent_save(
    request: Request,
    user_id: int,
    tier: Annotated[str, Form(max_length=4)] = "",
    skills: Annotated[str, Form(max_length=2000)] = "",
    max_chats: Annotated[str, Form(max_length=6)] = "",
    max_tickets: Annotated[str, Form(max_length=6)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    groups = [str(g)[:64] for g in (await request.form()).getlist("groups")][:50]

    def save() -> None:
        if tier not in {t.value for t in Tier}:
            raise Invalid("Choose tier 1 or tier 2.")
        for label, value in (("concurrent chats", max_chats), ("open tickets", max_tickets)):
            if not value.strip().isdigit():
                raise Invalid(f"The number of {label} must be a whole number.")
        service.update_agent(
            db,
            user_id,
            tier=Tier(tier),
            skills=parse_skills(skills),
            groups=groups,
            max_chats=int(max_chats),
            max_tickets=int(max_tickets),
            version=version_of(version),
            by=principal,
        )

    return submit(
        save,
        "/admin/routing?notice=saved",
        lambda exc: _admin_page(request, db, status_code=exc.status_code, error=exc.message, failed_user=user_id),
        shown=statuses(404, 409, 422),
    )
