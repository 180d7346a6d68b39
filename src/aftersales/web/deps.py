"""Request dependencies: the database, the principal (session or bearer token), roles, CSRF."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

from fastapi import Depends, Request

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role, Scope
from aftersales.kit.errors import AppError, Forbidden, Unauthorized
from aftersales.web import i18n

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(AppError):
    """A page needs a signed-in user; answered with a redirect to the login page."""

    status_code = 303
    code = "login_required"


class PrincipalLoader(Protocol):
    """Who is calling: the identity context answers (the composition root, main.create_app, binds
    it on `app.state.principals`); the web shell depends on no context."""

    def principal_for_token(self, db: Database, token: str) -> Principal | None: ...

    def principal_for_user_id(self, db: Database, user_id: int) -> Principal | None: ...


# The dependencies that do no I/O are `async def`: FastAPI runs a plain `def` in the thread pool,
# and each such hop cost the ticket intake more CPU than the dependency's own work.
def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_db(request: Request) -> Database:
    return database_of(request)


async def ensure_session_basics(request: Request) -> None:
    session_basics(request)


def session_basics(request: Request) -> None:
    """Every browser request gets a CSRF token in its session and a language. A bearer-token call
    without a session cookie gets none: it needs no CSRF token (it carries no ambient credential),
    and writing one would make the session middleware sign and send a cookie on every API call."""
    session = request.session
    if "csrf" not in session:
        if not session and request.headers.get("authorization"):
            request.state.csrf_token = ""
        else:
            session["csrf"] = secrets.token_urlsafe(32)
    if "csrf" in session:
        request.state.csrf_token = session["csrf"]
    default = request.app.state.settings.language
    request.state.lang = session.get("lang") or i18n.from_accept_language(
        request.headers.get("accept-language"), default
    )


def optional_principal(request: Request, db: Database = Depends(get_db)) -> Principal | None:
    identity: PrincipalLoader = request.app.state.principals
    auth = request.headers.get("authorization", "")
    principal: Principal | None = None
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send the API token as 'Authorization: Bearer <token>'.")
        principal = identity.principal_for_token(db, token.strip())
        if principal is None:
            raise Unauthorized("This API token is unknown or revoked; create a new one with 'aftersales token create'.")
        request.state.via_token = True
    elif (uid := request.session.get("uid")) is not None:
        principal = identity.principal_for_user_id(db, int(uid))
        if principal is None:
            request.session.pop("uid", None)
        request.state.via_token = False
    request.state.principal = principal
    return principal


def _check_api_csrf(request: Request) -> None:
    # Cookie-authenticated API writes (htmx, scripts in our pages) must prove they come from
    # our pages; bearer-token calls carry no ambient credentials and need no token.
    if request.method in SAFE_METHODS or getattr(request.state, "via_token", False):
        return
    sent = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent, request.session.get("csrf", "")):
        raise Forbidden("Missing or wrong X-CSRF-Token header for a cookie-authenticated request.")


class ApiGate:
    """The dependency of an API route: a signed-in caller of an allowed role whose token holds
    the route's scopes. The roles and scopes stay readable, so a test can check every route."""

    def __init__(self, roles: tuple[Role, ...], scopes: tuple[Scope, ...]) -> None:
        self.allowed_roles = frozenset(roles)
        self.required_scopes = frozenset(scopes)

    async def __call__(self, request: Request, principal: Principal | None = Depends(optional_principal)) -> Principal:
        if principal is None:
            raise Unauthorized(
                "Sign in, or send 'Authorization: Bearer <token>' (create one with 'aftersales token create')."
            )
        _check_api_csrf(request)
        if self.allowed_roles and principal.role not in self.allowed_roles:
            names = ", ".join(sorted(r.value for r in self.allowed_roles))
            raise Forbidden(f"Your role '{principal.role.value}' may not do this; it needs one of: {names}.")
        missing = sorted(s.value for s in self.required_scopes if not principal.may(s))
        if missing:
            flags = " ".join(f"--scope {name}" for name in missing)
            raise Forbidden(
                f"This API token lacks the scope {', '.join(missing)}; "
                f"create a token that has it (aftersales token create --user NAME {flags})."
            )
        return principal


def api_principal(*roles: Role, scope: Scope | tuple[Scope, ...] = ()) -> Callable[..., Awaitable[Principal]]:
    """Any of `roles` (none: any role) whose token holds `scope` (a session has every scope)."""
    return ApiGate(roles, (scope,) if isinstance(scope, Scope) else scope)


def page_principal(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def dependency(request: Request, principal: Principal | None = Depends(optional_principal)) -> Principal:
        if principal is None or getattr(request.state, "via_token", False):
            raise LoginRequired("Please sign in.", next=request.url.path)
        if allowed and principal.role not in allowed:
            raise Forbidden("Your role may not open this page.")
        return principal

    return dependency


async def csrf_protect(request: Request) -> None:
    """Every page form posts the session's CSRF token as a field or an htmx header."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token", "")
    if not sent:
        form = await request.form()
        value = form.get("csrf_token", "")
        sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent, request.session.get("csrf", "")):
        raise Forbidden("This form has expired or did not come from our page. Reload the page and try again.")
