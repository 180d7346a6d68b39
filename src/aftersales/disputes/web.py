"""Dispute pages: the buyer's request for the platform to step in, the queue by deadline (the
arbitrators' workspace; the buyer's and merchant's own disputes), and a dispute's page (deadline,
evidence chain with uploads, ruling form, each side's actions). Routes only: the rules are in the
service."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from aftersales.db.uow import Database
from aftersales.disputes import service
from aftersales.disputes.domain import (
    PARTY_KINDS,
    AppealResult,
    Awaiting,
    DisputeAction,
    EvidenceKind,
    Liability,
    Outcome,
)
from aftersales.disputes.schemas import AcceptIn, AppealDecisionIn, EscalateIn, EvidenceIn, RequestEvidenceIn, RuleIn
from aftersales.kit import photos
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid, NotFound
from aftersales.web import i18n
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.flash import flash, take_flash
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request.
router = APIRouter(tags=["disputes pages"], include_in_schema=False)
UPLOAD_PATHS = (r"/disputes/[^/]+/evidence",)
READERS = (Role.CUSTOMER, Role.MERCHANT, Role.ARBITRATOR, Role.SUPERVISOR, Role.ADMIN, Role.AGENT_T2)
ESCALATORS = (Role.CUSTOMER, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)


def _upload_dir(request: Request) -> str:
    return str(request.app.state.settings.upload_dir)


FORM_FIELDS = frozenset(
    {"liability", "outcome", "reasons", "evidence_ids", "amount", "awaiting", "note", "result", "text"}
)


def _said(exc: Exception, request: Request) -> str:
    if isinstance(exc, AppError):
        zh = exc.details.get("reason_zh")
        return zh if request.state.lang == "zh-CN" and isinstance(zh, str) and zh else exc.message
    lang = request.state.lang
    if isinstance(exc, ValidationError):
        # The form's own words for each field, never the validator's ("List should have at least 1 item").
        fields = dict.fromkeys(str(e["loc"][0]) if e.get("loc") else "" for e in exc.errors()[:5])
        names = [i18n.gettext(lang, f"dispute.field.{f}") for f in fields if f in FORM_FIELDS]
        if names:
            return i18n.gettext(lang, "dispute.check_fields").format(
                fields=("、" if lang == "zh-CN" else ", ").join(names)
            )
    return i18n.gettext(lang, "dispute.check_values")


@router.get("/disputes", response_class=HTMLResponse)
def disputes_page(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(*READERS))
) -> Response:
    shown = take_flash(request)
    return render(request, "disputes/list.html", items=service.queue(db, principal), error=shown.text if shown else "")


@router.get("/disputes/new", response_class=HTMLResponse)
def new_dispute(
    request: Request,
    case: Annotated[str, Query(max_length=24)],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*ESCALATORS)),
) -> Response:
    existing = service.dispute_for_case(db, case, principal)
    if existing:
        return RedirectResponse(f"/disputes/{existing}", status_code=303)
    shown = take_flash(request)
    return render(request, "disputes/new.html", case_number=case, error=shown.text if shown else "")


@router.post("/disputes")
def escalate(
    request: Request,
    case_number: Annotated[str, Form(max_length=24)],
    claim: Annotated[str, Form(max_length=2000)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*ESCALATORS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    try:
        dispute = service.escalate(db, EscalateIn(case_number=case_number, claim=claim), principal)
    except (AppError, ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        flash(request, _said(exc, request), ok=False)
        return RedirectResponse(f"/disputes/new?case={case_number}", status_code=303)
    return RedirectResponse(f"/disputes/{dispute.number}", status_code=303)


@router.get("/disputes/{number}", response_class=HTMLResponse)
def dispute_page(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    dispute = service.get_dispute(db, number[:24], principal)
    shown = take_flash(request)
    return render(
        request,
        "disputes/detail.html",
        d=dispute,
        error=shown.text if shown else "",
        party_kinds=sorted(k.value for k in PARTY_KINDS),
        liabilities=[x.value for x in Liability],
        outcomes=[x.value for x in Outcome],
        awaitings=[x.value for x in Awaiting],
        results=[x.value for x in AppealResult],
        arbiter=principal.role in (Role.ARBITRATOR, Role.SUPERVISOR, Role.ADMIN),
    )


@router.get("/disputes/{number}/photos/{name}")
def dispute_file(
    request: Request,
    number: str,
    name: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    """A file on a dispute's chain, for those who may see the dispute."""
    dispute = service.get_dispute(db, number[:24], principal)
    path = photos.photo_path(_upload_dir(request), dispute.number, name)
    if path is None or not any(f.name == name for e in dispute.evidence for f in e.files):
        raise NotFound("No such file on this dispute.")
    # Same FileResponse as cases.web.case_photo on purpose: each checks the file against its own record.
    return FileResponse(
        path,
        media_type=photos.content_type(name),
        headers={"Cache-Control": "private", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/disputes/{number}/evidence")
async def add_evidence(
    request: Request,
    number: str,
    kind: Annotated[EvidenceKind, Form()] = EvidenceKind.OTHER,
    text: Annotated[str, Form(max_length=4000)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = service.get_dispute(db, number[:24], principal).number  # only disputes the viewer may see
    stored: list[photos.StoredPhoto] = []
    try:
        checked = photos.check_photos(photos.chosen((await request.form()).getlist("files")))
        digests = {p.name: hashlib.sha256(p.data).hexdigest() for p in checked}
        stored = photos.store_photos(_upload_dir(request), number, checked)
        files = [
            {"name": p.name, "sha256": digests[p.name], "content_type": p.content_type, "size": p.size} for p in stored
        ]
        service.submit_evidence(db, number, EvidenceIn(kind=kind, text=text), principal, files)
    except (AppError, ValidationError) as exc:
        photos.remove_photos(_upload_dir(request), number, stored)
        flash(request, _said(exc, request), ok=False)
    except BaseException:
        photos.remove_photos(_upload_dir(request), number, stored)
        raise
    return RedirectResponse(f"/disputes/{number}", status_code=303)


@router.post("/disputes/{number}/act")
def act(
    request: Request,
    number: str,
    action: Annotated[DisputeAction, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
    awaiting: Annotated[str, Form(max_length=16)] = "both",
    liability: Annotated[str, Form(max_length=16)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    evidence_ids: Annotated[list[int] | None, Form()] = None,
    result: Annotated[str, Form(max_length=16)] = "",
    version: Annotated[int | None, Form()] = None,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]
    try:
        if action is DisputeAction.ACCEPT:
            service.accept(db, number, AcceptIn(awaiting=Awaiting(awaiting), note=note), principal)
        elif action is DisputeAction.REQUEST_EVIDENCE:
            service.request_evidence(db, number, RequestEvidenceIn(awaiting=Awaiting(awaiting), note=note), principal)
        elif action is DisputeAction.RULE:
            data = RuleIn(
                liability=Liability(liability),
                outcome=Outcome(outcome),
                reasons=note,
                evidence_ids=evidence_ids or [],
                amount=Decimal(amount) if amount.strip() else None,
                version=version,
            )
            service.rule(db, number, data, principal)
        elif action is DisputeAction.ENFORCED:
            service.confirm_enforced(db, number, principal, note)
        elif action is DisputeAction.APPEAL:
            service.appeal(db, number, note, principal)
        elif action is DisputeAction.DECIDE_APPEAL:
            service.decide_appeal(db, number, AppealDecisionIn(result=AppealResult(result), note=note), principal)
        elif action is DisputeAction.SETTLE:
            service.settle(db, number, note, principal)
        elif action is DisputeAction.WITHDRAW:
            service.withdraw(db, number, note, principal)
        else:
            raise Invalid(f"'{action.value}' is not done from this page.")
    except (AppError, ValidationError, InvalidOperation, ValueError) as exc:
        if isinstance(exc, NotFound):
            raise
        flash(request, _said(exc, request), ok=False)
    return RedirectResponse(f"/disputes/{number}", status_code=303)
