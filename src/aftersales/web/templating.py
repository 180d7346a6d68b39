"""Jinja2 environment with jinja2-fragments, so a page and its htmx partials share one template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from markupsafe import Markup, escape

from aftersales.config import get_settings
from aftersales.web import i18n

TEMPLATE_DIR = Path(__file__).parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# Reasons and actors the code writes itself (stored as written; each reader sees them translated).
SLA_METRICS = frozenset({"first_response", "resolution"})
SERVICE_ACTORS = {
    "payment gateway": "actor.payment_gateway",
    "order system": "actor.order_system",
    "订单系统": "actor.order_system",  # the demo's order system, as databases seeded before 2026-12 name it
}


def page_context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = request.state.lang
    zone = get_settings().zone
    principal = getattr(request.state, "principal", None)

    def _(message: str, **params: Any) -> str:
        text = i18n.gettext(lang, message)
        return text.format(**params) if params else text

    note_details: dict[str, str] = extra.get("note_details") or {}

    def reason_text(text: str) -> str:
        """System notes are stored as keys so each reader sees them in their own language."""
        if text.startswith("note.") and ":" in text:
            # "note.key:detail", e.g. the policy that approved a case at once: the page may name
            # the detail (a policy's name); unnamed, it is an identifier and shown as one.
            key, _sep, detail = text.partition(":")
            named = note_details.get(detail)
            shown = escape(named) if named else Markup("<code>{}</code>").format(detail)
            return escape(i18n.gettext(lang, key)).format(detail=shown)
        if text.startswith(("note.", "reason.")):
            return _(text)
        if text.startswith("order system revision"):
            return _("note.order_system")
        if text == "logistics update":
            return _("note.logistics_update")
        if text in SLA_METRICS:  # an SLA warning or breach names the clock that ran out
            return _(f"sla.metric.{text}")
        return text

    def subject_text(subject: str, order_number: str = "") -> str:
        """A ticket's subject: people's own words as written; one the system wrote (a chat
        hand-off's) is a catalogue key, said in the reader's language with the ticket's order."""
        return i18n.subject_words(subject, lang, order_number)

    def actor_text(kind: str, name: str) -> str:
        if kind == "system":
            return _("actor.system")
        # The services that act on their own have a name in each language; people keep theirs.
        return _(SERVICE_ACTORS[name]) if name in SERVICE_ACTORS else name

    return {
        "request": request,
        "reason_text": reason_text,
        "actor_text": actor_text,
        "subject_text": subject_text,
        "lang": lang,
        "languages": i18n.LANGUAGES,
        "_": _,
        "dt": lambda value, fmt="short": i18n.fmt_datetime(value, lang, zone, fmt),
        "money": lambda amount, currency: i18n.fmt_money(amount, currency, lang),
        "clock_text": lambda seconds_left: i18n.fmt_clock(seconds_left, lang),
        "clock_words": lambda: i18n.clock_words(lang),
        "zone_name": lambda key: i18n.zone_name(key, lang),
        "principal": principal,
        "csrf_token": request.state.csrf_token,
        **extra,
    }


def render(
    request: Request, template: str, status_code: int = 200, block: str | None = None, **context: Any
) -> HTMLResponse:
    """Render a whole page, or only one block of it when htmx asks for a fragment."""
    ctx = page_context(request, **context)
    html = render_block(env, template, block, ctx) if block is not None else env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)
