"""The public help center (no sign-in: customers look before they sign in) and the article editor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.knowledge import service
from aftersales.knowledge.domain import CATEGORIES, MAX_BODY, MAX_QUERY, split_tags
from aftersales.knowledge.schemas import ArticleIn, ArticleOut
from aftersales.web.deps import csrf_protect, get_db, optional_principal, page_principal
from aftersales.web.forms import statuses, submit, version_of
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
# Raw HTML in articles is shown as text, and markdown-it refuses javascript:/data: links.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # An editor's link opens without handing the other site our page (window.opener) or address.
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return str(renderer.renderToken(tokens, idx, options, env))


_markdown.add_render_rule("link_open", _link_open)
VOTED_KEY = "kb_voted"
MAX_VOTES_REMEMBERED = 30  # slugs kept in the signed session cookie
SEARCH_LIMIT = 10


def render_markdown(text: str) -> Markup:
    return Markup(_markdown.render(text))  # noqa: S704 - markdown-it escapes everything; raw HTML is off


# --- the public help center ----------------------------------------------------------------------
def _help_page(request: Request, db: Database, query: str) -> Response:
    hits = service.search(db, query, request.state.lang, SEARCH_LIMIT) if query else None
    if request.headers.get("hx-request"):
        return render(request, "knowledge/help.html", block="results", query=query, hits=hits)
    return render(request, "knowledge/help.html", query=query, hits=hits, categories=service.list_by_category(db))


@router.get("/help", response_class=HTMLResponse)
def help_center(
    request: Request, db: Database = Depends(get_db), _: Principal | None = Depends(optional_principal)
) -> Response:
    return _help_page(request, db, "")


@router.get("/help/search", response_class=HTMLResponse)
def help_search(
    request: Request, q: str = "", db: Database = Depends(get_db), _: Principal | None = Depends(optional_principal)
) -> Response:
    return _help_page(request, db, " ".join(q.split())[:MAX_QUERY])


def _voted(request: Request) -> list[str]:
    voted = request.session.get(VOTED_KEY, [])
    return voted if isinstance(voted, list) else []


@router.get("/help/{slug}", response_class=HTMLResponse)
def article_page(
    request: Request, slug: str, db: Database = Depends(get_db), _: Principal | None = Depends(optional_principal)
) -> Response:
    article = service.get(db, slug[:120])
    service.record_view(db, article.slug)
    related = [
        a
        for group in service.list_by_category(db)
        if group.code == article.category
        for a in group.articles
        if a.slug != article.slug
    ]
    return render(
        request,
        "knowledge/article.html",
        article=article,
        body=render_markdown(article.body(request.state.lang)),
        related=related[:6],
        feedback=_feedback(request, article.slug),
    )


def _feedback(request: Request, slug: str) -> str:
    """What the "was this helpful?" box shows: the question, or the answer the reader gave."""
    given = request.query_params.get("feedback", "")
    if given in ("yes", "no"):
        return given
    return "voted" if slug in _voted(request) else ""


@router.post("/help/{slug}/helpful", response_class=HTMLResponse)
def helpful(
    request: Request,
    slug: str,
    answer: Annotated[str, Form(max_length=8)] = "yes",
    db: Database = Depends(get_db),
    _: Principal | None = Depends(optional_principal),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    article = service.get(db, slug[:120])
    voted = _voted(request)
    feedback = "no" if answer == "no" else "yes"
    if feedback == "yes" and article.slug not in voted:
        service.mark_helpful(db, article.slug)
        request.session[VOTED_KEY] = [*voted, article.slug][-MAX_VOTES_REMEMBERED:]
    if request.headers.get("hx-request"):
        return render(request, "knowledge/article.html", block="helpful", article=article, feedback=feedback)
    return RedirectResponse(f"/help/{article.slug}?feedback={feedback}#helpful", status_code=303)


# --- the administrators' editor ------------------------------------------------------------------
def _form_values(article: ArticleOut | None = None, **submitted: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "slug": "",
        "category": CATEGORIES[0],
        "title_zh": "",
        "title_en": "",
        "body_zh": "",
        "body_en": "",
        "tags": "",
        "published": True,
        "version": "",
    }
    if article is not None:
        values.update(article.model_dump(include=set(values) - {"tags"}))
        values["tags"] = ", ".join(article.tags)
    values.update(submitted)
    return values


def _fields(
    category: str, title_zh: str, title_en: str, body_zh: str, body_en: str, tags: str, published: str, version: str
) -> ArticleIn:
    return ArticleIn(
        category=category,
        title_zh=title_zh,
        title_en=title_en,
        body_zh=body_zh,
        body_en=body_en,
        tags=split_tags(tags),
        published=published in ("on", "true", "1"),
        version=version_of(version),
    )


def _submitted(
    category: str, title_zh: str, title_en: str, body_zh: str, body_en: str, tags: str, published: str, version: str
) -> dict[str, Any]:
    """The form as the person left it, to show again beside the error."""
    submitted: dict[str, Any] = {"category": category, "title_zh": title_zh, "title_en": title_en}
    submitted |= {"body_zh": body_zh, "body_en": body_en, "tags": tags, "published": published == "on"}
    return submitted | {"version": version}


Text = Annotated[str, Form(max_length=400)]
Body = Annotated[str, Form(max_length=MAX_BODY + 10_000)]


@router.get("/admin/articles", response_class=HTMLResponse)
def articles_page(
    request: Request, db: Database = Depends(get_db), _: Principal = Depends(page_principal(Role.ADMIN))
) -> Response:
    return render(
        request,
        "knowledge/admin_list.html",
        articles=service.list_all(db),
        categories=CATEGORIES,
        values=_form_values(),
        error="",
    )


@router.post("/admin/articles", response_class=HTMLResponse)
def create_article(
    request: Request,
    slug: Text = "",
    category: Text = "",
    title_zh: Text = "",
    title_en: Text = "",
    body_zh: Body = "",
    body_en: Body = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
    published: Annotated[str, Form(max_length=8)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    form = (category, title_zh, title_en, body_zh, body_en, tags, published)

    def again(exc: AppError) -> Response:
        return render(
            request,
            "knowledge/admin_list.html",
            status_code=exc.status_code,
            articles=service.list_all(db),
            categories=CATEGORIES,
            values=_form_values(**_submitted(*form, version=""), slug=slug),
            error=exc.message,
        )

    return submit(
        lambda: service.create(db, slug, _fields(*form, ""), principal),
        lambda article: f"/admin/articles/{article.slug}?notice=created",
        again,
        shown=statuses(409, 422),
    )


@router.get("/admin/articles/{slug}", response_class=HTMLResponse)
def article_editor(
    request: Request, slug: str, db: Database = Depends(get_db), _: Principal = Depends(page_principal(Role.ADMIN))
) -> Response:
    article = service.get(db, slug[:120], include_unpublished=True, as_written=True)
    notice = request.query_params.get("notice", "")
    return render(
        request,
        "knowledge/admin_edit.html",
        article=article,
        categories=CATEGORIES,
        values=_form_values(article),
        error="",
        notice=notice if notice in ("saved", "created") else "",
    )


@router.post("/admin/articles/{slug}", response_class=HTMLResponse)
def save_article(
    request: Request,
    slug: str,
    category: Text = "",
    title_zh: Text = "",
    title_en: Text = "",
    body_zh: Body = "",
    body_en: Body = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
    published: Annotated[str, Form(max_length=8)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
    _csrf: None = Depends(csrf_protect),
) -> Response:
    article = service.get(db, slug[:120], include_unpublished=True, as_written=True)
    form = (category, title_zh, title_en, body_zh, body_en, tags, published)

    def again(exc: AppError) -> Response:
        return render(
            request,
            "knowledge/admin_edit.html",
            status_code=exc.status_code,
            article=article,
            categories=CATEGORIES,
            values=_form_values(article, **_submitted(*form, version=version)),
            error=exc.message,
            notice="",
        )

    return submit(
        lambda: service.save(db, article.slug, _fields(*form, version), principal),
        f"/admin/articles/{article.slug}?notice=saved",
        again,
        shown=statuses(409, 422),
    )
