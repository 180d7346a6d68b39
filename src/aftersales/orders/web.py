"""Order pages: the customer's orders, staff order search, order detail, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.pagination import PageRequest
from aftersales.orders import service
from aftersales.orders.domain import LogisticsNode, OrderStatus
from aftersales.web.deps import get_db, page_principal
from aftersales.web.templating import render

router = APIRouter(include_in_schema=False)

ORDER_READERS = (
    Role.CUSTOMER,
    Role.AGENT_T1,
    Role.AGENT_T2,
    Role.SUPERVISOR,
    Role.MERCHANT,
    Role.WAREHOUSE,
    Role.RIDER,
    Role.ARBITRATOR,
    Role.ADMIN,
)


@router.get("/", response_class=HTMLResponse)
def home(principal: Principal = Depends(page_principal())) -> Response:
    if principal.role is Role.ADMIN:
        return RedirectResponse("/admin/users", status_code=303)
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
    return render(request, "orders/detail.html", order=order, nodes=list(LogisticsNode))


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    subject: Annotated[str, Query(max_length=32)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN, Role.SUPERVISOR)),
) -> Response:
    entries = service.audit_log(db, subject or None)
    return render(request, "admin/audit.html", entries=entries, subject=subject)
