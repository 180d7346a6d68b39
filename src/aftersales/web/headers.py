"""Security headers on every response: a Content-Security-Policy that lets no inline or foreign
script run, no framing, no MIME sniffing, a referrer policy, and HSTS when cookies are Secure."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts and styles only from our own /static files: an injected <script>, on*= handler or
# javascript: link does not run. img-src allows data: for Pico's and Swagger UI's inline SVG icons.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Pure ASGI middleware, so streamed responses (SSE) pass through untouched."""

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", PAGE_POLICY.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if https_only:
            # Only when TLS is in front of us (cookie_secure): HSTS over plain HTTP would lock users out.
            self.headers.append((b"strict-transport-security", HSTS.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
