"""Sign-in, sign-out, language switch, the person's own account and the administrators' user list."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.db.uow import Database
from aftersales.identity import account as accounts
from aftersales.identity import service
from aftersales.identity.customers import CustomerDirectory
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, NotFound, TooManyRequests
from aftersales.kit.masking import mask_email, mask_phone
from aftersales.web import i18n
from aftersales.web.deps import csrf_protect, get_db, optional_principal, page_principal
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
# The sign-in throttle's refusal, as a message id: the page fills in the minutes in its language.
TOO_MANY_FAILURES = "Too many failed sign-ins. Wait {minutes} minutes and try again."


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after sign-in."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def customer_directory(request: Request) -> CustomerDirectory:
    """The orders context's merchants and customers, as bound by the composition root."""
    directory: CustomerDirectory = request.app.state.customer_directory
    return directory


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, next: str = "/", principal: Principal | None = Depends(optional_principal)
) -> Response:
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", next=_safe_next(next), error=None, username="")


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=400)] = "/",
    db: Database = Depends(get_db),
) -> Response:
    settings = request.app.state.settings
    try:
        principal = service.authenticate(
            db,
            username,
            password,
            _client_address(request),
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
        )
    except AppError as exc:
        slowed = isinstance(exc, TooManyRequests) and "minutes" in exc.details
        page = render(
            request,
            "login.html",
            status_code=exc.status_code,
            next=_safe_next(next),
            error=TOO_MANY_FAILURES if slowed else exc.message,
            error_params={"minutes": exc.details["minutes"]} if slowed else {},
            username=username,
        )
        if slowed:
            page.headers["Retry-After"] = str(exc.details["retry_after"])
        return page
    # A fresh session on sign-in, so a planted session cannot be carried into an account.
    lang = request.session.get("lang") or service.user_locale(db, principal.user_id)
    request.session.clear()
    request.session["uid"] = principal.user_id
    if lang:
        request.session["lang"] = lang
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


@router.post("/language", dependencies=[Depends(csrf_protect)])
def switch_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)] = "zh-CN",
    next: Annotated[str, Form(max_length=400)] = "/",
    db: Database = Depends(get_db),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    chosen = i18n.normalize(lang)
    request.session["lang"] = chosen
    if principal is not None:
        service.set_locale(db, principal.user_id, chosen)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    role: str = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
    orders: CustomerDirectory = Depends(customer_directory),
) -> Response:
    users = service.list_users(db, role or None)
    merchants = orders.list_merchants(db)
    return render(
        request,
        "admin/users.html",
        users=users,
        roles=list(Role),
        role_filter=role,
        merchants=merchants,
        notice=request.query_params.get("notice", ""),
    )


@router.post("/admin/users/{user_id}/role", dependencies=[Depends(csrf_protect)])
def change_role(
    request: Request,
    user_id: int,
    role: Annotated[Role, Form()],
    merchant_id: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    merchant = int(merchant_id) if merchant_id.strip().isdigit() else None
    user = service.change_role(db, user_id, role, merchant, principal)
    return RedirectResponse(f"/admin/users?notice=role:{user.username}", status_code=303)


@router.post("/admin/users/{user_id}/active", dependencies=[Depends(csrf_protect)])
def set_active(
    request: Request,
    user_id: int,
    active: Annotated[bool, Form()],
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    user = service.set_active(db, user_id, active, principal)
    return RedirectResponse(f"/admin/users?notice=active:{user.username}", status_code=303)


# --- my account ------------------------------------------------------------------------------------
@router.get("/account", response_class=HTMLResponse)
def account_page(
    request: Request,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*(r for r in Role if r is not Role.INTEGRATION))),
    orders: CustomerDirectory = Depends(customer_directory),
) -> Response:
    """Profile, language, contact preferences and (for customers) the membership level."""
    me = accounts.account_of(db, principal.user_id)
    if me is None:
        raise NotFound("This account no longer exists.")
    contact = orders.customer_contact(db, me.customer_id) if me.customer_id is not None else None
    return render(
        request,
        "account.html",
        me=me,
        contact=contact,
        phone_masked=mask_phone(contact.phone) if contact else "",
        email_masked=mask_email(contact.email) if contact else me.email_masked,
        languages=i18n.LANGUAGES,
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/account", dependencies=[Depends(csrf_protect)])
def save_account(
    request: Request,
    lang: Annotated[str, Form(max_length=8)] = "zh-CN",
    email_notices: Annotated[str, Form(max_length=8)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*(r for r in Role if r is not Role.INTEGRATION))),
    orders: CustomerDirectory = Depends(customer_directory),
) -> Response:
    chosen = i18n.normalize(lang)
    request.session["lang"] = chosen
    service.set_locale(db, principal.user_id, chosen)
    if principal.customer_id is not None:
        # An unticked box sends nothing: email off.
        orders.set_contact_preferences(db, principal.customer_id, locale=chosen, email_notices=email_notices == "on")
    return RedirectResponse("/account?saved=1", status_code=303)
