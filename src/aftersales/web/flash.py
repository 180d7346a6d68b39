"""One-time messages carried from an action to the page it redirects to ("flash" messages).

They travel in the signed session cookie, never in the address: a sentence in a query string
(`?notice=…`, `?error=…`) can be put there by anyone who sends a link, and the page would say it
in the site's own voice."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

_KEY = "flash"
MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class Flash:
    text: str
    ok: bool  # a success (shown as a notice) or a refusal (shown as an alert)


def flash(request: Request, text: str, *, ok: bool) -> None:
    """Keep `text` for the next page this browser shows."""
    request.session[_KEY] = {"text": text[:MAX_CHARS], "ok": ok}


def take_flash(request: Request) -> Flash | None:
    """The message left by the last action, once: shown now, gone on the next page."""
    kept = request.session.pop(_KEY, None)
    if not isinstance(kept, dict) or not isinstance(kept.get("text"), str):
        return None
    return Flash(text=kept["text"], ok=bool(kept.get("ok")))
