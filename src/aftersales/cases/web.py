"""Pages: the customer's one-click after-sales flow and progress view, the agents' and
merchants' case queues and case detail, and the self-service buttons on the order page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from aftersales.cases import domain, photos, self_service, service, views
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason, CaseStatus
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn, CaseOut, EvidenceIn
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid, NotFound
from aftersales.kit.pagination import PageRequest
from aftersales.messaging import live
from aftersales.orders import service as orders
from aftersales.orders.schemas import AddressIn
from aftersales.rules import service as rules
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.flash import flash, take_flash
from aftersales.web.forms import redirect, submit
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
# The forms that carry photos: their bodies may be as large as the upload limit, not the form limit.
UPLOAD_PATHS = (r"/orders/[^/]+/after-sales", r"/cases/[^/]+/act")
SUBMITTERS = (Role.CUSTOMER, Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)
CASE_READERS = (*SUBMITTERS, Role.MERCHANT, Role.WAREHOUSE, Role.ARBITRATOR)
SELF = SUBMITTERS
# Who sees merchants' task lists (urged orders): the merchant's side and platform staff.
TASK_READERS = (Role.MERCHANT, Role.WAREHOUSE, Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)
SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)  # alerted when a review deadline passes


def _upload_dir(request: Request) -> str:
    return str(request.app.state.settings.upload_dir)


KINDS, REASONS = frozenset(k.value for k in CaseKind), frozenset(r.value for r in CaseReason)


async def _draft_from_form(request: Request, number: str) -> CaseDraft:
    """Read the after-sales form: a quantity per line (0 = not included), photo links (uploaded
    photos are stored once the case exists)."""
    form = await request.form()
    lines = []
    for key, value in form.multi_items():
        if key.startswith("qty_") and isinstance(value, str) and value.strip() not in ("", "0"):
            if not value.strip().isdigit() or not key[4:].isdigit():
                raise views.form_problem(["lines"])
            lines.append(CaseLineIn(line_no=int(key[4:]), quantity=int(value)))
    photos = [str(v).strip() for k, v in form.multi_items() if k == "photo" and str(v).strip()]
    amount_text = str(form.get("compensation_amount", "") or "").strip()
    kind, reason = str(form.get("kind", "return_refund")), str(form.get("reason", "changed_mind"))
    wrong = [name for name, value, known in (("kind", kind, KINDS), ("reason", reason, REASONS)) if value not in known]
    try:
        amount = Decimal(amount_text) if amount_text else None
    except InvalidOperation:
        wrong.append("compensation_amount")
    if wrong:
        raise views.form_problem(wrong)
    try:
        return CaseDraft(
            order_number=number,
            kind=CaseKind(kind),
            reason=CaseReason(reason),
            lines=lines,
            description=str(form.get("description", ""))[:2000],
            opened=form.get("opened") == "on",
            evidence=[EvidenceIn(kind="photo", uri=url[:400]) for url in photos[:20]],
            return_method=str(form.get("return_method", "")),
            compensation_amount=amount,
        )
    except ValidationError as exc:
        raise views.form_problem(views.fields_of(exc)) from exc


@router.get("/orders/{number}/after-sales", response_class=HTMLResponse)
def after_sales_form(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUBMITTERS)),
) -> Response:
    order = orders.get_order(db, number[:64], principal)
    return render(
        request, "cases/new.html", order=order, kinds=list(CaseKind), reasons=list(CaseReason), preview=None, error=None
    )


@router.post("/orders/{number}/after-sales/preview", response_class=HTMLResponse)
async def after_sales_preview(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUBMITTERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    try:
        draft = await _draft_from_form(request, number[:64])
        result = service.preview(db, draft, principal)
        return render(request, "cases/_preview.html", preview=result, error=None)
    except AppError as exc:
        return render(request, "cases/_preview.html", preview=None, error=_in_language(exc, request))


@router.post("/orders/{number}/after-sales")
async def after_sales_submit(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUBMITTERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    form = await request.form()
    try:
        checked = photos.check_photos(photos.chosen(form.getlist("photos")))
        draft = await _draft_from_form(request, number[:64])
        case = service.submit(
            db,
            draft,
            principal,
            via="customer" if principal.role is Role.CUSTOMER else "agent",
            idempotency_key=str(form.get("form_key", ""))[:100] or None,
        )
    except AppError as exc:
        order = orders.get_order(db, number[:64], principal)
        return render(
            request,
            "cases/new.html",
            status_code=exc.status_code,
            order=order,
            kinds=list(CaseKind),
            reasons=list(CaseReason),
            preview=None,
            error=_in_language(exc, request),
        )
    uploaded = f"/cases/{case.number}/photos/"
    if checked and not any(e.uri.startswith(uploaded) for e in case.evidence):  # not a repeated submission
        stored = photos.store_photos(_upload_dir(request), case.number, checked)
        try:
            service.attach_photos(db, case.number, stored, principal)
        except Exception:
            photos.remove_photos(_upload_dir(request), case.number, stored)
            raise
    return RedirectResponse(f"/cases/{case.number}", status_code=303)


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    status: Annotated[str, Query(max_length=24)] = "",
    kind: Annotated[str, Query(max_length=24)] = "",
    overdue: bool = False,
    escalated: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CASE_READERS)),
) -> Response:
    chosen_status = status if status in {s.value for s in CaseStatus} else ""
    chosen_kind = kind if kind in {k.value for k in CaseKind} else ""
    result = service.list_cases(
        db,
        principal,
        PageRequest(page, 20),
        status=chosen_status or None,
        kind=chosen_kind or None,
        overdue=overdue,
        escalated=escalated,
    )
    tasks = self_service.open_merchant_tasks(db, principal) if principal.role in TASK_READERS else []
    return render(
        request,
        "cases/list.html",
        notice=take_flash(request),
        tasks=tasks,
        page=result,
        status=chosen_status,
        kind=chosen_kind,
        overdue=overdue,
        escalated=escalated,
        supervising=principal.role in SUPERVISING,
        statuses=list(CaseStatus),
        kinds=list(CaseKind),
    )


@router.get("/cases/escalations", response_class=HTMLResponse)
def escalations_alert(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SUPERVISING)),
) -> Response:
    """The supervisors' alert on the cases list: reviews whose deadline passed, waiting for them,
    and refunds that failed, waiting for a retry."""
    waiting = service.list_cases(db, principal, PageRequest(1, 1), escalated=True).total
    failed = service.list_cases(db, principal, PageRequest(1, 1), status=CaseStatus.REFUND_FAILED.value).total
    return render(request, "cases/_escalations.html", waiting=waiting, failed=failed)


@router.get("/cases/stream")
async def escalations_stream(principal: Principal = Depends(page_principal(*SUPERVISING))) -> StreamingResponse:
    """Server-Sent Events: `review_escalated` the moment the review sweep escalates a case."""
    return StreamingResponse(
        live.stream(service.SUPERVISORS, viewer=principal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/cases/{number}", response_class=HTMLResponse)
def case_page(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CASE_READERS)),
) -> Response:
    case = service.get_case(db, number[:24], principal)
    block = "progress" if request.headers.get("hx-request") else None
    shown = take_flash(request) if block is None else None  # the progress poll leaves it for the page
    return render(
        request,
        "cases/detail.html",
        block=block,
        case=case,
        error=shown.text if shown else "",
        note_details=rules.policy_names(db, request.state.lang),
        platform_offer=service.escalation_offered(case, principal),
    )


@router.get("/cases/{number}/photos/{name}")
def case_photo(
    request: Request,
    number: str,
    name: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CASE_READERS)),
) -> Response:
    """A photo uploaded to a case, for those who may see the case and that photo."""
    missing = NotFound("No such photo on this case.")
    if not photos.NAME.fullmatch(name):
        raise missing
    case = service.get_case(db, number[:24], principal)
    uri = f"/cases/{case.number}/photos/{name}"
    path = photos.photo_path(_upload_dir(request), case.number, name)
    if path is None or not any(e.uri == uri for e in case.evidence):
        raise missing
    # Same FileResponse as disputes.web.dispute_file on purpose: each checks the file against its own record.
    return FileResponse(
        path,
        media_type=photos.content_type(name),
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/cases/{number}/act")
async def case_act(
    request: Request,
    number: str,
    action: Annotated[CaseAction, Form()],
    version: Annotated[int | None, Form()] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
    carrier: Annotated[str, Form(max_length=32)] = "",
    tracking_number: Annotated[str, Form(max_length=64)] = "",
    pickup_at: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    photo: Annotated[str, Form(max_length=400)] = "",
    confirm: Annotated[str, Form(max_length=4)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CASE_READERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:24]
    inspecting = action.value.startswith("inspect")
    stored: list[photos.StoredPhoto] = []
    try:
        if not confirm:  # a refund that starts at once is confirmed first, with its amount
            case = service.get_case(db, number, principal)
            if domain.moves_money(CaseKind(case.kind), CaseStatus(case.status), action):
                shown = Decimal(amount) if amount.strip() else (case.approved_amount or case.requested_amount)
                return _confirm_refund(request, case, action, shown, version, amount, note)
        checked = photos.check_photos(photos.chosen((await request.form()).getlist("photos")))
        if action is CaseAction.ADD_EVIDENCE and not photo.strip() and not checked:
            raise Invalid("Choose a photo to upload or enter a photo link.")
        if checked:
            number = service.get_case(db, number, principal).number  # only cases the viewer may see
            stored = photos.store_photos(_upload_dir(request), number, checked)
        uploads = [
            EvidenceIn(kind="inspection" if inspecting else "photo", uri=f"/cases/{number}/photos/{p.name}")
            for p in stored
        ]
        data = ActionIn(
            action=action,
            version=version,
            note=note,
            carrier=carrier,
            tracking_number=tracking_number,
            pickup_at=_local_datetime(pickup_at, request) if pickup_at else None,
            amount=Decimal(amount) if amount.strip() else None,
            evidence=(
                [EvidenceIn(kind="inspection" if inspecting else "photo", uri=photo, text=note if inspecting else "")]
                if photo or inspecting
                else []
            )
            + uploads,
        )
        service.act(db, number, data, principal)
    except (AppError, ValidationError, InvalidOperation, ValueError) as exc:
        photos.remove_photos(_upload_dir(request), number, stored)
        message = _in_language(exc, request) if isinstance(exc, AppError) else "Please check the values you entered."
        if isinstance(exc, ValidationError):
            message += " " + "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()[:3])
        flash(request, message, ok=False)
        # A case the person may not see would answer 404: say why on their list instead.
        return RedirectResponse("/cases" if isinstance(exc, NotFound) else f"/cases/{number}", status_code=303)
    except BaseException:
        photos.remove_photos(_upload_dir(request), number, stored)
        raise
    return RedirectResponse(f"/cases/{number}", status_code=303)


def _in_language(exc: AppError, request: Request) -> str:
    """The error's sentence; in Chinese where the service gave one (reason_zh)."""
    zh = exc.details.get("reason_zh")
    return zh if request.state.lang == "zh-CN" and isinstance(zh, str) and zh else exc.message


def _confirm_refund(
    request: Request, case: CaseOut, action: CaseAction, shown: Decimal, version: int | None, amount: str, note: str
) -> Response:
    fields: dict[str, object] = {"action": action.value, "amount": amount.strip(), "note": note, "confirm": 1}
    if version is not None:
        fields["version"] = version
    return render(
        request,
        "cases/confirm.html",
        heading=f"confirm.case.{action.value}",
        facts=[("confirm.case_refund", {"case": case.number, "order": case.order_number})],
        amount=shown,
        currency=case.currency,
        action=f"/cases/{case.number}/act",
        testid="confirm-refund",
        fields=fields,
        confirm_label=f"confirm.case.{action.value}_yes",
        back=f"/cases/{case.number}",
    )


def _local_datetime(text: str, request: Request) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=request.app.state.settings.zone)
    return moment


@router.post("/orders/{number}/self-service/{action}")
async def self_service_action(
    request: Request,
    number: str,
    action: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*SELF, Role.MERCHANT, Role.WAREHOUSE)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    number = number[:64]
    form = await request.form()
    try:
        if action == "cancel":
            if form.get("confirm") is None:  # first step: what is paid back, to confirm once
                return _confirm_cancel(request, number, self_service.quote_cancel(db, number, principal))
            result = self_service.cancel_order(db, number, principal)
        elif action == "urge":
            result = self_service.urge_delivery(db, number, principal)
        elif action == "address":
            address = AddressIn(
                name=str(form.get("name", "")),
                phone=str(form.get("phone", "")),
                region=str(form.get("region", "")),
                detail=str(form.get("detail", "")),
            )
            result = self_service.change_address(db, number, address, principal)
        elif action == "out-of-stock":
            line_no = _whole(form.get("line_no"), "The line")
            quantity = _whole(form.get("quantity"), "The quantity") if str(form.get("quantity", "")).strip() else None
            seen = form.get("seen")
            if seen is None:  # first step: what will be refunded, to confirm once
                asked = self_service.quote_out_of_stock(db, number, line_no, quantity, principal)
                return _confirm_out_of_stock(request, asked)
            result = self_service.report_out_of_stock(
                db, number, line_no, principal, quantity, seen=_whole(seen, "The confirmation")
            )
        else:
            raise Invalid(f"Unknown action '{action}'.")
    except (AppError, ValidationError, ValueError) as exc:
        message = exc.message if isinstance(exc, AppError) else "Please check the values you entered."
        flash(request, message, ok=False)
        return RedirectResponse(f"/orders/{number}", status_code=303)
    lang = request.state.lang
    message = result.message_zh if lang == "zh-CN" else result.message_en
    if result.case_number:
        return RedirectResponse(f"/cases/{result.case_number}", status_code=303)
    flash(request, message, ok=result.done)
    return RedirectResponse(f"/orders/{number}", status_code=303)


def _whole(value: object, what: str) -> int:
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 9:
        raise Invalid(f"{what} must be a whole number.")
    return int(text)


def _confirm_cancel(request: Request, number: str, refund: tuple[Decimal, str] | None) -> Response:
    return render(
        request,
        "cases/confirm.html",
        heading="confirm.cancel",
        facts=[("confirm.cancel_refund" if refund else "confirm.cancel_no_refund", {})],
        amount=refund[0] if refund else None,
        currency=refund[1] if refund else "",
        action=f"/orders/{number}/self-service/cancel",
        testid="confirm-cancel",
        fields={"confirm": 1},
        confirm_label="confirm.cancel_yes",
        back=f"/orders/{number}",
    )


def _confirm_out_of_stock(request: Request, asked: self_service.OutOfStockQuote) -> Response:
    # Message ids; the page translates them.
    return render(
        request,
        "cases/confirm.html",
        heading="confirm.out_of_stock",
        facts=[
            ("confirm.out_of_stock_line", {"name": asked.product_name, "n": asked.quantity, "left": asked.unclaimed})
        ],
        amount=asked.amount,
        currency=asked.currency,
        action=f"/orders/{asked.order_number}/self-service/out-of-stock",
        testid="confirm-out-of-stock",
        fields={"line_no": asked.line_no, "quantity": asked.quantity, "seen": asked.seen},
        confirm_label="confirm.out_of_stock_yes",
        back=f"/orders/{asked.order_number}",
    )


@router.get("/orders/{number}/urges", response_class=HTMLResponse)
def order_urges(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CASE_READERS)),
) -> Response:
    """The urges of an order and what the merchant did (a fragment of the order page)."""
    tasks = self_service.merchant_tasks_of_order(db, number[:64], principal)
    return render(request, "cases/_urges.html", tasks=tasks, back=f"/orders/{quote(number[:64])}")


@router.get("/orders/{number}/cases", response_class=HTMLResponse)
def order_cases(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*CASE_READERS)),
) -> Response:
    """The order's after-sales cases the viewer may see (a fragment of the order page, which the
    orders context cannot fill itself: it sits below cases)."""
    cases = service.list_cases(db, principal, PageRequest(1, 50), order_number=number[:64])
    return render(request, "cases/_order_cases.html", cases=cases.items)


@router.post("/merchant-tasks/{task_id}/handled")
def merchant_task_handled(
    request: Request,
    task_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    note: Annotated[str, Form(max_length=1000)] = "",
    back: Annotated[str, Form(max_length=200)] = "/cases",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*TASK_READERS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    # Only a path of ours: never an open redirect to another site.
    target = back if back.startswith("/") and not back.startswith("//") else "/cases"

    def again(exc: AppError) -> Response:  # the list the task was on, saying why it was refused
        flash(request, exc.message, ok=False)
        return redirect(target)

    return submit(lambda: self_service.handle_merchant_task(db, task_id, note, principal), target, again)
