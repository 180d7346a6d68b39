"""Every response carries the security headers: a Content-Security-Policy without inline or
foreign scripts, no framing, no MIME sniffing, a referrer policy, and HSTS only when the session
cookie is Secure. The templates hold nothing that such a policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aftersales.config import Settings
from aftersales.main import create_app

TEMPLATES = Path(__file__).parents[2] / "src" / "aftersales" / "web" / "templates"
# Inline scripts, handlers and styles, and script links: what the policy would block.
BLOCKED_IN_TEMPLATES = (
    r"<script(?![^>]*\bsrc=)[^>]*>",
    r"\son[a-z]+\s*=",
    r"\bhx-on",
    r"\sstyle\s*=",
    r"<style",
    r"javascript:",
)
PATHS = ["/login", "/help", "/docs", "/openapi.json", "/static/css/app.css", "/healthz", "/no-such-page", "/orders"]


def policy(response_headers: dict[str, str]) -> dict[str, str]:
    directives = [d.strip() for d in response_headers["content-security-policy"].split(";") if d.strip()]
    return {d.split()[0]: d.partition(" ")[2] for d in directives}


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    headers = response.headers
    csp = policy(dict(headers))
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'" and csp["default-src"] == "'self'"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "unsafe-eval" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
    assert "strict-transport-security" not in headers  # plain HTTP here: HSTS would lock users out


def test_hsts_only_when_the_cookie_is_secure(settings: Settings) -> None:
    secure = create_app(settings.model_copy(update={"cookie_secure": True}))
    with TestClient(secure, base_url="https://127.0.0.1") as client:
        hsts = client.get("/login").headers["strict-transport-security"]
    assert re.fullmatch(r"max-age=(\d+).*", hsts) and int(hsts.split("=")[1].split(";")[0]) >= 15552000


def test_the_api_docs_start_from_a_script_file(client: TestClient) -> None:
    page = client.get("/docs").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert client.get("/static/js/swagger-init.js").status_code == 200


def test_no_template_has_inline_scripts_handlers_or_styles() -> None:
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in BLOCKED_IN_TEMPLATES:
            found += [f"{template.relative_to(TEMPLATES)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert found == []
