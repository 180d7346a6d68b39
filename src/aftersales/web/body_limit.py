"""Request bodies have a size limit: a client cannot make a web process read (or spool to disk)
more than the limit, whatever Content-Length it claims or whether it sends one at all.

A pure ASGI middleware: a declared Content-Length past the limit is refused before the app runs;
otherwise the bytes are counted as they arrive, and the moment they pass the limit the app's read
fails and the answer becomes 413, whatever the app made of the failed read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aftersales.web import i18n
from aftersales.web.deps import session_basics

# Kept as message ids: the page shows them in the reader's language, with the limit filled in.
TOO_LARGE = "This request is too large: at most {limit} can be sent here. Send less and try again."
TOO_LARGE_UPLOAD = (
    "These photos and the form together are too large: at most {limit} can be sent at once. "
    "Choose fewer or smaller photos."
)


class BodyTooLarge(StarletteHTTPException):
    """Raised from the app's read of the body; a Starlette HTTPException, so FastAPI's own body
    parsing passes it on instead of calling it a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE.format(limit=readable_size(limit)))


def readable_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} bytes"


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the client declared; None when absent or not a number (the server
    refuses those; the bytes are counted anyway)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int, upload_paths: Sequence[str] = ()) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = [re.compile(pattern) for pattern in upload_paths]

    def limit_for(self, path: str) -> tuple[int, bool]:
        """(limit in bytes, whether it is an upload address)."""
        if any(pattern.fullmatch(path) for pattern in self.upload_paths):
            return self.max_upload, True
        return self.max_body, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, upload = self.limit_for(scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit, upload)
            return

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app answered to its failed read, the answer is our 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit, upload)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int, upload: bool) -> None:
        request = Request(scope, receive)
        size = readable_size(limit)
        if _wants_json(request):
            message = TOO_LARGE.format(limit=size)
            response: Response = JSONResponse(
                {"error": "too_large", "message": message, "detail": message}, status_code=413
            )
        else:
            response = _page(request, TOO_LARGE_UPLOAD if upload else TOO_LARGE, size)
        # The rest of the body is not read; the server closes the connection after the answer.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _page(request: Request, message_id: str, size: str) -> Response:
    from aftersales.web.templating import render

    if "session" in request.scope:
        session_basics(request)
        lang = request.state.lang
    else:
        lang = i18n.from_accept_language(request.headers.get("accept-language"), "zh-CN")
        request.state.lang = lang
        request.state.csrf_token = ""
    message = i18n.gettext(lang, message_id).format(limit=size)
    return render(request, "error.html", status_code=413, status=413, message=message)
