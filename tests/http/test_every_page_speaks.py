"""Every page speaks its reader's language: the demo shop, walked as every demo account in zh-CN and
in en, never shows a catalogue key, a raw code, a row id, a Python repr or English in a Chinese page,
and every template is rendered by at least one page on the way.

The walk follows the links (href and hx-get) each page offers, from every page route without
parameters, so path parameters are filled with what that person can really see: their orders,
cases, tickets, articles. What the pages show is checked as a person sees it: the text outside
<script> and <style>, plus the attributes read aloud or shown on hover (title, placeholder,
aria-label, alt).
"""

from __future__ import annotations

import html
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import JSON, String, Text, select

from aftersales.db.uow import Database
from aftersales.demo import tickets as demo_tickets
from aftersales.demo.seed import DEMO_PASSWORD, seed_demo
from aftersales.models import metadata
from aftersales.routing import service as routing
from aftersales.sla import service as sla
from aftersales.tickets import macros as ticket_macros
from aftersales.web import templating

from ..factories import csrf_from, login

try:  # FastAPI >= 0.16x keeps included routers nested; this walks them with their full paths.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens include_router into app.routes

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[no-redef]
        return iter(routes)


ACCOUNTS = (
    "customer",
    "emma",
    "agent1",
    "agent2",
    "supervisor",
    "merchant",
    "warehouse",
    "rider",
    "arbitrator",
    "admin",
)
LANGUAGES = ("zh-CN", "en")
# Distinct addresses walked per route and per account and language: enough to meet each page in
# a few states (a case approved, another one closed) without walking all of them.
PER_ROUTE = 3

# Not pages: machine endpoints, live streams and binary files.
NOT_PAGES = re.compile(
    r"^/(api/|static/|openapi\.json|docs|metrics|healthz|favicon\.ico)|/stream$|/photos/|/attachments/|/export\."
)
# Pages reached from an email rather than from a page: the walk starts at them too.
FROM_EMAILS = ("/outreach/unsubscribe/1.service_proactive.email.0",)
# Pages that are only reached with parameters a link carries; the walk must meet them anyway.
ROUTE_PARAM = re.compile(r"\{[^}]+\}")

# What the checks take out of the text before looking: e-mail addresses and web addresses are
# real things people read; so are file names.
EMAIL = re.compile(r"[\w.*+-]+@[\w*-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|org|net|local|test)\b(?::\d+)?(?:/\S*)?")
FILE_NAME = re.compile(r"[\w/-]*[\w-]+\.(?:ya?ml|jpe?g|png|gif|webp|pdf|csv|txt|po|md|html|json|eml)\b", re.IGNORECASE)

CATALOGUE_KEY = re.compile(r"\b(?!e\.g\b|i\.e\b)[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+\b")
SNAKE_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ROW_ID = re.compile(r"#\d+")
REPRS = re.compile(
    r"object at 0x|Decimal\(|datetime\.|\bNone\b|\{'|\[<|<bound |Traceback|\bTrue\b|\bFalse\b|\bUndefined\b"
    # a validator's own words (pydantic), never a sentence for people
    r"|validation errors? for|Input should|Value error|Field required|type=\w+_"
)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,.:;!?/-]+[A-Za-z][A-Za-z'’]*)*")
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# Words a Chinese page may show: units, carriers and the product's own short words.
ZH_ALLOWED_WORDS = {
    "kg",
    "g",
    "ml",
    "L",
    "GB",
    "W",
    "mAh",
    "cm",
    "mm",
    "x",
    "SF",
    "JD",
    "ZTO",
    "YTO",
    "STO",
    "VIP",
    "API",
    "SLA",
    "App",
    "CSV",
    "Excel",  # the file format of an export, like CSV
    "ID",
    "SMTP",
    "PDF",
    "English",  # the language switcher names each language in itself
    "Aftersales",  # the product's name
    "JPEG",
    "PNG",
    "WebP",
    "MB",
    "JSON",
    "Markdown",  # file formats and sizes people choose from
    "SVIP",  # a membership level's own name
    "TK",
    "SO",
    "AS",  # the prefixes of ticket, order and case numbers (in "TK…" hints)
    "Erlang",
    "WAPE",  # a queueing model's and a forecast error's own names, as Chinese planners write them
    "Shopify",
    "WooCommerce",
    "Magento",
    "BigCommerce",
    "Saleor",  # shop platforms' own names (the integrations page), as carriers' above
}
# Columns whose text people of the shop wrote or named: any language may show it.
DATA_COLUMNS = frozenset(
    {"name", "display_name", "username", "requester_name", "brand", "spec", "description", "subject", "place"}
)
PEOPLES_TEXT = frozenset({("disputes", "claim"), ("disputes", "reasons"), ("dispute_evidence", "text")})
# Codes that are numbers to people: SKUs (MD-AC15, US-DOWN-M), tracking numbers, order numbers.
NUMBER_LIKE = re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)+\b|\b\w*\d\w*\b")
# The one Chinese word an English page may show: the language switcher's own name for Chinese.
EN_ALLOWED_CJK = {"中文", "简体中文", "怎么退货"}  # and the article form's example of a customer's words


# Not the product's words: scripts and styles are not shown, a <textarea> holds what the person
# edits (a policy's JSON, an article's Markdown), and <code> marks an identifier shown on purpose
# to the administrators who type it (a policy key, an article slug, a calendar key).
NOT_LABELS = frozenset({"script", "style", "textarea", "code"})


class VisibleText(HTMLParser):
    """The text a person sees, without <script> and <style>; links and htmx requests on the side."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden_depth = 0
        self._form: tuple[str, dict[str, str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in NOT_LABELS:
            self._hidden_depth += 1
        values = dict(attrs)
        for name in self.SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(str(values["value"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if values.get("hx-get"):
            self.links.append(str(values["hx-get"]))
        # A GET form (a filter, a macro picker) is a link with its first choices filled in.
        if tag == "form" and (values.get("method") or "get").lower() == "get" and values.get("action"):
            self._form = (str(values["action"]), {})
        elif self._form is not None and values.get("name") and tag in ("input", "select"):
            if tag == "select" or values.get("type") not in ("checkbox", "radio", "submit"):
                self._form[1].setdefault(str(values["name"]), str(values.get("value") or ""))
                self._select = str(values["name"]) if tag == "select" else None
        elif tag == "option" and self._form is not None and self._select and not self._form[1].get(self._select):
            self._form[1][self._select] = str(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            action, fields = self._form
            self.links.append(f"{action}?{urlencode(fields)}" if fields else action)
            self._form = self._select = None
        if tag in NOT_LABELS and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth and data.strip():
            self.parts.append(data.strip())


def visible(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser


@dataclass
class Findings:
    """What went wrong, each problem once with the first page that showed it and how often."""

    seen: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, problem: str, where: str) -> None:
        self.seen[problem].append(where)

    def report(self) -> str:
        lines = [
            f"{problem}\n    on {len(pages)} page(s), first {pages[0]}" for problem, pages in sorted(self.seen.items())
        ]
        return f"{len(lines)} problem(s):\n" + "\n".join(lines)


def _scrub(text: str) -> str:
    for pattern in (EMAIL, URL, FILE_NAME):
        text = pattern.sub(" ", text)
    return text


def check_text(
    text: str, lang: str, data_words: set[str], data_text: str, codes: frozenset[str] = frozenset()
) -> Iterator[str]:
    """Every way a page can leak what a person should never read, one line each."""
    # A stored code shown as a whole label ("chat" as a calendar's choice, "cat-appliances" as a
    # queue, "pop" as a merchant's kind): its words may be data elsewhere (a calendar's English
    # name says "Chat"), so the word checks below let it through; the label is still a code.
    for part in text.split(" \n "):
        label = part.strip()
        if label in codes or (label.isupper() and label.lower() in codes):  # "POP" for the kind "pop"
            yield f"[{lang}] stored code as a label: {label!r}"
    clean = _scrub(text)
    for match in CATALOGUE_KEY.finditer(clean):
        yield f"[{lang}] catalogue key or dotted code: {match.group(0)!r} in {_around(clean, match)!r}"
    for match in SNAKE_CODE.finditer(clean):
        yield f"[{lang}] raw code: {match.group(0)!r} in {_around(clean, match)!r}"
    for match in ROW_ID.finditer(clean):
        yield f"[{lang}] row id: {match.group(0)!r} in {_around(clean, match)!r}"
    for match in REPRS.finditer(clean):
        yield f"[{lang}] Python repr: {match.group(0)!r} in {_around(clean, match)!r}"
    if lang == "zh-CN":
        # Order, ticket and case numbers (SO…, TK…, AS…) and other words with digits are numbers.
        words = NUMBER_LIKE.sub(" ", clean)
        for match in LATIN_RUN.finditer(words):
            foreign = [
                w
                for w in LATIN_WORD.findall(match.group(0))
                if w not in ZH_ALLOWED_WORDS and w.lower() not in data_words
            ]
            if foreign:
                yield f"[zh-CN] English: {match.group(0)!r} in {_around(words, match, 20)!r}"
    else:
        for match in CJK_RUN.finditer(clean):
            run = match.group(0)
            if run not in EN_ALLOWED_CJK and run not in data_text:
                yield f"[en] Chinese not from the shop's data: {run!r} in {_around(clean, match)!r}"


def _around(text: str, match: re.Match[str], width: int = 40) -> str:
    return text[max(0, match.start() - width) : match.end() + width].replace("\n", " ")


# Columns that hold codes, never words for people (<code> may show them on purpose): the keys of
# calendars, queues and policies, and a merchant's kind. Roles and statuses are left out: their
# codes are also usernames ("admin") and English words ("met") people may read.
CODE_COLUMNS = frozenset({"key", "calendar_key", "group_key", "merchants.kind"})


def stored_codes(db: Database) -> frozenset[str]:
    """The codes the shop stores (calendar and queue keys, merchant kinds), at least 3
    characters and without spaces or digits-only values, so that no real word is taken for one."""
    codes: set[str] = set()
    with db.read() as uow:
        for table in metadata.sorted_tables:
            for column in table.columns:
                named = column.name in CODE_COLUMNS or f"{table.name}.{column.name}" in CODE_COLUMNS
                if named and isinstance(column.type, String | Text):
                    codes.update(
                        str(v) for v in uow.session.scalars(select(column).distinct()) if v and len(str(v)) >= 3
                    )
    return frozenset(c for c in codes if " " not in c and not c.isdigit())


def data_words_and_text(db: Database) -> tuple[set[str], str]:
    """What the shop's people wrote or named (products, brands, names, the customers' own messages)
    may appear in any language; text the product itself writes may not. Returns the Latin words of
    the first (lower-cased) and all stored text (to tell stored Chinese from Chinese the code wrote)."""
    words: set[str] = set()
    own_words = [f"{story.subject} {story.body}" for story in demo_tickets.STORIES]
    chunks: list[str] = []
    with db.read() as uow:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, JSON):  # a policy's reasons in both languages, for instance
                    stored = uow.session.scalars(select(column))
                    chunks.extend(json.dumps(v, ensure_ascii=False, default=str) for v in stored if v)
                if not isinstance(column.type, String | Text):
                    continue
                values = [str(v) for v in uow.session.scalars(select(column)) if v]
                chunks.extend(values)
                if column.name in DATA_COLUMNS or column.name.endswith("_en"):
                    own_words.extend(values)
                elif (table.name, column.name) == ("ticket_messages", "body"):
                    # The customer's words, and what was said to them in their language: an
                    # agent's reply, or the help center's suggestions (shown to staff as sent).
                    rows = uow.session.execute(select(column, table.c.kind, table.c.author_name))
                    for body, kind, author in rows:
                        if kind in ("customer", "reply") or (kind == "system" and author == "Help center"):
                            own_words.append(f"{body} {author}")
                elif (table.name, column.name) in PEOPLES_TEXT:
                    # What a party to a case or a dispute wrote: a claim, evidence, a ruling's
                    # reasons, in the language of the buyer it concerns (an English buyer's in English).
                    own_words.extend(values)
                elif (table.name, column.name) == ("timeline_events", "reason"):
                    # A reason a person typed (a refusal's note, a claim): theirs; the system's are keys.
                    rows = uow.session.execute(select(column, table.c.actor_kind))
                    own_words.extend(
                        str(r) for r, kind in rows if r and kind == "user" and not str(r).startswith("note.")
                    )
                elif column.name in ("body", "body_text") and "message" in table.name:
                    # A notice is written in its reader's language: English ones are an English
                    # customer's, whatever language her pages are in now.
                    own_words.extend(v for v in values if not CJK_RUN.search(v))
    for text in own_words:
        words.update(word.lower() for word in LATIN_WORD.findall(text))
    return words, "\n".join(chunks)


@pytest.fixture
def demo_shop(db: Database) -> Database:
    """The shop as `make run` shows it: what `aftersales migrate` loads, then a small demo."""
    sla.load_defaults(db)
    ticket_macros.load_default_macros(db)
    routing.ensure_defaults(db)
    seed_demo(db, customers=8, orders=60, seed=7, console=Console(file=io.StringIO()))
    return db


def page_routes(app: FastAPI) -> list[tuple[str, re.Pattern[str]]]:
    """(route path, matcher) for every GET page, routes without parameters first so that
    /cases/escalations wins over /cases/{number}."""
    routes = []
    for route in iter_route_contexts(app.routes):
        if "GET" not in (getattr(route, "methods", None) or ()) or NOT_PAGES.search(route.path):
            continue
        pattern = re.compile(
            "^" + ROUTE_PARAM.sub("[^/]+", re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        )
        routes.append((route.path, pattern))
    return sorted(routes, key=lambda item: ("{" in item[0], item[0]))


def route_of(path: str, routes: list[tuple[str, re.Pattern[str]]]) -> str | None:
    return next((name for name, pattern in routes if pattern.match(path)), None)


def sign_in_as(client: TestClient, username: str, lang: str) -> None:
    client.cookies.clear()
    login(client, username, DEMO_PASSWORD)
    token = csrf_from(client.get("/account").text)
    answer = client.post("/language", data={"lang": lang, "next": "/", "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def walk(
    client: TestClient,
    routes: list[tuple[str, re.Pattern[str]]],
    who: str,
    findings: Findings,
    reached: set[str],
    check: Any,
) -> None:
    """Breadth-first through the pages this person is offered, each route at most PER_ROUTE times."""
    queue: list[tuple[str, str | None]] = [(path, None) for path, _p in routes if "{" not in path]
    queue += [(path, None) for path in FROM_EMAILS]
    seen: set[str] = set()
    per_route: dict[str, int] = defaultdict(int)
    while queue:
        url, linked_from = queue.pop(0)
        parts = urlsplit(url)
        route = route_of(parts.path, routes)
        if route is None or url in seen or per_route[route] >= PER_ROUTE:
            continue
        seen.add(url)
        where = f"{who} GET {url}"
        try:
            answer = client.get(url, follow_redirects=True)
        except Exception as error:
            findings.add(f"error: {type(error).__name__}: {error}", where)
            continue
        if answer.status_code >= 500:
            findings.add(f"server error {answer.status_code} on {route}", where)
            continue
        if answer.status_code >= 400:
            # A survey's link ends by design: once answered (409) or after its 7 days (410) the
            # page that says so is the answer (tests/integration/test_surveys_web.py).
            ended = route == "/surveys/{token}" and answer.status_code in (409, 410)
            if linked_from is not None and answer.status_code != 422 and not ended:
                findings.add(f"dead link to {route} ({answer.status_code})", f"{where} (linked from {linked_from})")
            continue
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        reached.add(route)
        per_route[route] += 1  # pages that answered: a link that fails does not use up the route
        page = visible(answer.text)
        for problem in check(" \n ".join(page.parts)):
            findings.add(problem, where)
        for link in page.links:
            target = urljoin(str(answer.url), link)
            split = urlsplit(target)
            if split.netloc not in ("", "127.0.0.1") or split.scheme not in ("", "http"):
                continue
            local = split.path + (f"?{split.query}" if split.query else "")
            queue.append((local, url))


def _post(client: TestClient, url: str, data: dict[str, str], who: str, findings: Findings, check: Any) -> str:
    """Send a form as the page would and check the page that answers; returns its HTML."""
    token = csrf_from(client.get("/account").text)
    answer = client.post(url, data={**data, "csrf_token": token}, follow_redirects=True)
    where = f"{who} POST {url} {data}"
    if answer.status_code >= 500:
        findings.add(f"server error {answer.status_code} on POST {url}", where)
        return ""
    for problem in check(" \n ".join(visible(answer.text).parts)):
        findings.add(problem, where)
    return answer.text


def scenes(client: TestClient, username: str, who: str, findings: Findings, check: Any) -> None:
    """What only a form sends renders pages too: a request's preview and its mistakes, a refund to
    confirm, a chat handed to a person, a policy's dry run."""
    if username in ("customer", "emma"):
        numbers = re.findall(r'href="/orders/(SO\w+)"', client.get("/orders").text)
        for number in numbers[:8]:
            page = client.get(f"/orders/{number}/after-sales")
            lines = re.findall(r'name="(qty_\d+)"', page.text) if page.status_code == 200 else []
            if lines:
                form = {lines[0]: "1", "kind": "return_refund", "reason": "defect"}
                _post(client, f"/orders/{number}/after-sales/preview", form, who, findings, check)
                _post(client, f"/orders/{number}/after-sales", {**form, "kind": "bogus"}, who, findings, check)
                wrong = {**form, "kind": "compensation", "compensation_amount": "abc"}
                _post(client, f"/orders/{number}/after-sales", wrong, who, findings, check)
                _post(client, f"/orders/{number}/after-sales", {**form, "return_method": "x"}, who, findings, check)
                break
        for number in numbers[:8]:
            _post(client, f"/orders/{number}/self-service/cancel", {}, who, findings, check)
        chat = re.search(r"/chat/(\d+)/messages", client.get("/chat").text)
        if chat:
            _post(client, f"/chat/{chat.group(1)}/human", {}, who, findings, check)
        for survey in re.findall(r'href="(/surveys/[^"]+)"', client.get("/inbox").text):
            if client.get(survey).status_code == 200:  # answer the first survey still open
                low = {"result": "2", "speed": "4", "attitude": "4", "tags": "slow_reply", "comment": "慢"}
                _post(client, survey, low, who, findings, check)
                break
    if username == "supervisor":
        page = client.get("/admin/policies").text
        facts = re.search(r'<textarea name="facts"[^>]*>(.*?)</textarea>', page, re.DOTALL)
        assert facts, "the policies page offers no dry run"
        form = {"mode": "facts", "purpose": "eligibility", "facts": html.unescape(facts.group(1))}
        _post(client, "/admin/policies/dry-run", form, who, findings, check)


def test_every_page_speaks_its_readers_language(
    app: FastAPI, client: TestClient, demo_shop: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: set[str] = set()
    original = templating.env.get_template

    def get_template(name: Any, *args: Any, **kwargs: Any) -> Any:
        template = original(name, *args, **kwargs)
        rendered.add(template.name or str(name))
        return template

    monkeypatch.setattr(templating.env, "get_template", get_template)
    routes = page_routes(app)
    findings = Findings()
    reached: set[str] = set()
    codes = stored_codes(demo_shop)
    assert {"chat", "platform", "pop"} <= codes, sorted(codes)  # the check sees the codes it must
    for username in ACCOUNTS:
        for lang in LANGUAGES:
            sign_in_as(client, username, lang)
            # Read again before each walk: what earlier walks wrote (a chat's messages) is data now.
            data_words, data_text = data_words_and_text(demo_shop)

            def check(
                text: str, lang: str = lang, words: set[str] = data_words, stored: str = data_text
            ) -> Iterator[str]:
                return check_text(text, lang, words, stored, codes)

            scenes(client, username, f"{username} [{lang}]", findings, check)
            walk(client, routes, f"{username} [{lang}]", findings, reached, check)
    # The sign-in page, seen by someone not signed in.
    client.cookies.clear()
    for lang in LANGUAGES:
        page = client.get("/login", headers={"Accept-Language": lang})
        for problem in check_text(" \n ".join(visible(page.text).parts), lang, data_words, data_text):
            findings.add(problem, f"anonymous GET /login [{lang}]")

    for route, _pattern in routes:
        if route not in reached:
            findings.add(f"no account reached the page {route}", "the walk")
    all_templates = {
        path.relative_to(templating.TEMPLATE_DIR).as_posix() for path in templating.TEMPLATE_DIR.rglob("*.html")
    }
    for name in sorted(all_templates - rendered):
        findings.add(f"no page rendered the template {name}", "the walk")
    assert not findings.seen, findings.report()
