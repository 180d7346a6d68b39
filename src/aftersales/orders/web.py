"""Order pages: the customer's orders, staff order search, order detail, the audit log, and the
rider's deliveries of the day."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from aftersales.db.uow import Database
from aftersales.kit import photos
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Invalid, NotFound
from aftersales.kit.pagination import PageRequest
from aftersales.orders import deliveries, service
from aftersales.orders.domain import DeliveryMark, FailureReason, LogisticsNode, OrderStatus
from aftersales.orders.views import phones_shown
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.flash import take_flash
from aftersales.web.forms import submit
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)

ORDER_READERS = (
    Role.CUSTOMER,
    Role.AGENT_T1,
    Role.AGENT_T2,
    Role.SUPERVISOR,
    Role.MERCHANT,
    Role.WAREHOUSE,
    Role.ARBITRATOR,
    Role.ADMIN,
)


@router.get("/", response_class=HTMLResponse)
def home(principal: Principal = Depends(page_principal())) -> Response:
    if principal.role is Role.ADMIN:
        return RedirectResponse("/admin/users", status_code=303)
    if principal.role is Role.RIDER:
        return RedirectResponse("/deliveries", status_code=303)
    return RedirectResponse("/orders", status_code=303)


@router.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request,
    q: Annotated[str, Query(max_length=80)] = "",
    status: Annotated[str, Query(max_length=16, description="an order status, or empty for all")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*ORDER_READERS)),
) -> Response:
    # The form's "all statuses" choice sends an empty value; an unknown one filters nothing.
    chosen = status if status in {s.value for s in OrderStatus} else ""
    result = service.search_orders(db, principal, q, PageRequest(page, 20), chosen or None)
    template = "orders/mine.html" if principal.role is Role.CUSTOMER else "orders/search.html"
    block = "results" if request.headers.get("hx-request") and request.headers.get("hx-target") == "results" else None
    return render(
        request,
        template,
        block=block,
        page=result,
        q=q,
        status=chosen,
        statuses=list(OrderStatus),
    )


@router.get("/orders/{number}", response_class=HTMLResponse)
def order_page(
    request: Request,
    number: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*ORDER_READERS)),
) -> Response:
    order = service.get_order(db, number[:64], principal)
    # Photos riders took of failed attempts: the order's viewers may see them (served by delivery_photo).
    photos_by_shipment = {s.id: deliveries.photo_uris(_upload_dir(request), s.id) for s in order.shipments}
    return render(
        request,
        "orders/detail.html",
        order=order,
        phones=phones_shown(order, principal),
        nodes=list(LogisticsNode),
        delivery_photos=photos_by_shipment,
        notice=take_flash(request),
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    subject: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN, Role.SUPERVISOR)),
) -> Response:
    result = service.audit_log(db, subject or None, PageRequest(page, 50))
    return render(request, "admin/audit.html", entries=result.items, page=result, subject=subject)


# --- the rider's day ------------------------------------------------------------------------------
def _upload_dir(request: Request) -> str:
    return str(request.app.state.settings.upload_dir)


def _deliveries_page(
    request: Request, db: Database, principal: Principal, *, error: str = "", status_code: int = 200
) -> Response:
    settings = request.app.state.settings
    items = deliveries.todays_deliveries(db, principal, settings.zone, _upload_dir(request))
    return render(
        request,
        "orders/deliveries.html",
        status_code=status_code,
        deliveries=items,
        # A fresh event id per form: the same form sent twice records one mark.
        event_ids={d.shipment_id: f"rider-{d.shipment_id}-{secrets.token_hex(8)}" for d in items},
        reasons=list(FailureReason),
        error=error,
        done=request.query_params.get("done", "")[:16],
    )


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries_page(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.RIDER)),
) -> Response:
    return _deliveries_page(request, db, principal)


@router.post("/deliveries/{shipment_id}/mark", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
async def mark_delivery(
    request: Request,
    shipment_id: int,
    mark: Annotated[str, Form(max_length=16)] = "",
    event_id: Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")] = "",
    reason: Annotated[str, Form(max_length=24)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.RIDER)),
) -> Response:
    chosen = (await request.form()).getlist("photo")

    def mark_it() -> None:
        if mark not in {m.value for m in DeliveryMark}:
            raise Invalid("Choose picked up, delivered or failed.")
        if not event_id:
            raise Invalid("This form is incomplete; reload the page and try again.")
        if reason and reason not in {r.value for r in FailureReason}:
            raise Invalid("Choose one of the listed reasons.")
        checked = photos.check_photos(photos.chosen(chosen))
        if len(checked) > 1:
            raise Invalid("Add one photo of the delivery attempt.")
        deliveries.mark_delivery(
            db,
            shipment_id,
            DeliveryMark(mark),
            principal,
            event_id=event_id,
            upload_dir=_upload_dir(request),
            reason=FailureReason(reason) if reason else None,
            note=note,
            photo=checked[0] if checked else None,
        )

    return submit(
        mark_it,
        f"/deliveries?done={mark}",
        lambda exc: _deliveries_page(request, db, principal, error=exc.message, status_code=exc.status_code),
        shown=lambda exc: not isinstance(exc, NotFound),
    )


@router.get("/deliveries/{shipment_id}/photos/{name}")
def delivery_photo(
    request: Request,
    shipment_id: int,
    name: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*ORDER_READERS, Role.RIDER)),
) -> Response:
    """A photo of a delivery attempt, for the rider of the parcel and those who may see its order."""
    path = deliveries.delivery_photo(db, shipment_id, name[:64], principal, _upload_dir(request))
    if path is None:
        raise NotFound("No such photo of this delivery.")
    return FileResponse(
        path,
        media_type=photos.content_type(name),
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
