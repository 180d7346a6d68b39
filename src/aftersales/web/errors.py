"""One answer for every failure: JSON for the API, a page for people; never a bare 500."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from aftersales.kit.errors import AppError
from aftersales.web import i18n
from aftersales.web.deps import LoginRequired, session_basics

log = structlog.get_logger(__name__)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _page(request: Request, status: int, message: str) -> Response:
    from aftersales.web.templating import render

    if not hasattr(request.state, "lang"):
        session_basics(request)
    return render(request, "error.html", status_code=status, status=status, message=message)


def _refusal(request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The same refusal for both audiences: JSON for the API, the error page for a browser."""
    if _wants_json(request):
        body = {"error": code, "message": message, "detail": message}
        return JSONResponse(body, status_code=status, headers=headers)
    return _page(request, status, message)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        fields.append(
            {
                "loc": list(err.get("loc", ())),
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
                "field": ".".join(loc),
            }
        )
    return fields


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    field: str


class CurrentState(BaseModel):
    """Where a case or ticket stands now, sent with a 409 that refused a stale or concurrent change."""

    number: str
    status: str
    version: int


class ErrorBody(BaseModel):
    """Every API error, whatever its status: a code, a sentence for people, and the detail (the
    sentence again, or one entry per bad field when the request did not validate)."""

    error: str
    message: str
    detail: str | list[FieldProblem]
    current: CurrentState | None = None


# Answers any API operation can give: no or a bad token, input that does not validate, the
# database gone. Documented here once, so integrators (and the schema fuzzer) see them everywhere.
_EVERY_API_OPERATION = {
    "401": "not signed in: send 'Authorization: Bearer <token>'",
    "422": "the request does not validate; `detail` names each field",
    "503": "the database is unavailable; retry after the Retry-After seconds",
}


_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def _with_error_body(content: dict[str, Any] | None) -> dict[str, Any]:
    """A route's own error model (a refused action's result) stays; the shared handlers can still
    answer with an ErrorBody, so the document allows either. FastAPI's 422 model is replaced."""
    schema = (content or {}).get("application/json", {}).get("schema")
    if not schema or schema.get("$ref", "").endswith("/HTTPValidationError"):
        return {"application/json": {"schema": _ERROR_REF}}
    return {"application/json": {"schema": {"anyOf": [schema, _ERROR_REF]}}}


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors: FastAPI documents 422 with its own
    body, but every error here leaves through the handlers below as an ErrorBody."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = generate()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas["ErrorBody"] = body
        for path, item in doc.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in _EVERY_API_OPERATION.items():
                    responses.setdefault(status, {"description": description})
                if "requestBody" in operation:
                    responses.setdefault("400", {"description": "the body is not valid JSON"})
                    responses.setdefault(
                        "413", {"description": "the body is larger than AFTERSALES_MAX_BODY_BYTES (1 MB by default)"}
                    )
                for status, response in responses.items():
                    if status[0] in "45":
                        response["content"] = _with_error_body(response.get("content"))
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused not in str(doc.get("paths")):
                schemas.pop(unused, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    document_errors(app)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = exc.details.get("next", "/")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": f"/login?next={target}"})
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if _wants_json(request):
            headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
            if "retry_after" in exc.details:
                headers = {"Retry-After": str(exc.details["retry_after"])}
            body: dict[str, Any] = {"error": exc.code, "message": exc.message, "detail": exc.message}
            if "current" in exc.details:  # a refused writer reloads to this (state and version)
                body["current"] = exc.details["current"]
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if not hasattr(request.state, "lang"):
            session_basics(request)
        return _page(request, exc.status_code, i18n.error_text(exc, request.state.lang))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = _field_errors(exc)
        summary = "; ".join(f"{f['field'] or 'request'}: {f['msg']}" for f in fields[:5])
        if _wants_json(request):
            return JSONResponse(
                {"error": "invalid", "message": f"Please fix: {summary}", "detail": fields}, status_code=422
            )
        return _page(request, 422, f"Please fix: {summary}")

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> Response:
        message = "Someone else changed this record at the same time. Reload it and try again."
        return _refusal(request, 409, "conflict", message)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _db_down(request: Request, exc: Exception) -> Response:
        log.error("database.unavailable", error=str(exc)[:300], path=request.url.path)
        message = "The database is unavailable right now. Please try again in a moment."
        return _refusal(request, 503, "unavailable", message, headers={"Retry-After": "5"})

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        log.warning("database.integrity", error=str(exc.orig)[:300], path=request.url.path)
        message = "This conflicts with data that already exists. Reload and try again."
        return _refusal(request, 409, "conflict", message)

    @app.exception_handler(DBAPIError)
    async def _db_refused(request: Request, exc: DBAPIError) -> Response:
        # Validation should have caught this; answer as bad input and log it so it gets fixed.
        log.error("database.refused", error=str(exc.orig)[:300], path=request.url.path)
        message = "The database refused a value in this request (too long or out of range). Check the fields."
        return _refusal(request, 422, "invalid", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.detail else "Request failed."
        if exc.status_code == 404 and not _wants_json(request):
            if not hasattr(request.state, "lang"):
                session_basics(request)
            # A browser reads it in its language; the API keeps the English sentence.
            message = i18n.gettext(request.state.lang, "error.nothing_at").format(path=request.url.path)
        elif exc.status_code == 404:
            message = f"Nothing at {request.url.path}."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        return _refusal(request, exc.status_code, "http_error", message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("request.failed", path=request.url.path)
        message = "Something went wrong on our side; it has been logged."
        return _refusal(request, 500, "internal", message)
