"""HEAD works wherever GET does (RFC 9110 §9.3.2): monitors, link checkers and `curl -I` ask for
the headers of a page without its body. A pure ASGI middleware: the request is answered as a GET,
with the same status and headers, and the body is not sent."""

from __future__ import annotations

import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyDropped(Exception):
    """Stops a streaming answer once its headers have gone: nobody will read the rest."""


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] != "http.response.body":
                await send(message)
                return
            if not finished:
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            if message.get("more_body", False):
                raise _BodyDropped

        with contextlib.suppress(_BodyDropped):
            await self.app({**scope, "method": "GET"}, receive, headers_only)
