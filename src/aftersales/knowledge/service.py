"""Use cases of the knowledge base: load the starter articles, search, read, edit, count helpful votes.

`search(db, text, lang, limit)` is what the assistant and the agents' tools call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.knowledge.article_file import ArticleSpec, parse_articles
from aftersales.knowledge.domain import (
    CATEGORIES,
    FACT_PLACEHOLDER,
    MAX_QUERY,
    ArticleContent,
    ArticleError,
    IndexDoc,
    SearchIndex,
    check_content,
    check_slug,
    fill_facts,
    normalize_lang,
    plain_text,
    snippet,
)
from aftersales.knowledge.models import Article
from aftersales.knowledge.repository import ArticlesRepository
from aftersales.knowledge.schemas import ArticleHit, ArticleIn, ArticleOut, CategoryOut

__all__ = [
    "ARTICLES_DIR",
    "ArticleError",
    "ArticleHit",
    "create",
    "get",
    "list_all",
    "list_by_category",
    "load_articles",
    "mark_helpful",
    "register_facts",
    "save",
    "search",
]

log = structlog.get_logger(__name__)
ARTICLES_DIR = Path(__file__).parent / "articles"
MAX_LIMIT = 50
# A hit scoring under this share of the best one is noise (a shared common word), not an answer.
MIN_SHARE = 0.2


# --- loading the starter articles ----------------------------------------------------------------
def read_article_files(path: Path | None = None) -> list[ArticleSpec]:
    """Parse and check every *.md under `path` (a directory, in name order, or one file)."""
    path = path or ARTICLES_DIR
    try:
        files = sorted(path.glob("*.md")) if path.is_dir() else [path]
        sources = [(file.name, file.read_text(encoding="utf-8")) for file in files]
    except OSError as exc:
        raise ArticleError(f"{path}: cannot read the articles ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{path}: an article file is not UTF-8 text ({exc.reason})") from exc
    if not sources:
        raise ArticleError(f"{path}: no article files (*.md) found")
    return parse_articles(sources)


def load_articles(db: Database, path: Path | None = None) -> int:
    """Insert the articles whose slug is missing; returns how many were inserted.

    Every file is checked first, so a bad file changes nothing (ArticleError names the file).
    Articles already in the database are left exactly as an administrator edited them.
    """
    specs = read_article_files(path)
    try:
        return _insert_missing(db, specs)
    except IntegrityError:
        # Another process loaded the same slugs at the same moment; the second pass skips them.
        return _insert_missing(db, specs)


def _insert_missing(db: Database, specs: list[ArticleSpec]) -> int:
    with db.write() as uow:
        repo = ArticlesRepository(uow.session)
        existing = repo.slugs()
        added = 0
        for spec in specs:
            if spec.slug in existing:
                continue
            article = Article(slug=spec.slug, published=spec.published, views=0, helpful=0, updated_by="system")
            _apply(article, spec.content)
            repo.add(article)
            added += 1
        uow.commit()
    if added:
        log.info("knowledge.articles_loaded", added=added)
    return added


def _apply(article: Article, content: ArticleContent) -> None:
    article.category = content.category
    article.title_zh = content.title_zh
    article.title_en = content.title_en
    article.body_zh = content.body_zh
    article.body_en = content.body_en
    article.tags = list(content.tags)
    article.updated_at = clock.now()


# --- search --------------------------------------------------------------------------------------
# Same fields as ArticleOut on purpose: the search index keeps only the words, frozen and hashable.
@dataclass(frozen=True, slots=True)
class _Entry:
    slug: str
    category: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


@dataclass(frozen=True, slots=True)
class _Snapshot:
    key: tuple[Any, ...]
    index: SearchIndex
    entries: dict[int, _Entry]


# One index per database URL, rebuilt when the published articles' fingerprint changes; every
# search checks the fingerprint, so an edit made in any process shows up in every other at once.
_indexes: dict[str, _Snapshot] = {}
_indexes_lock = threading.Lock()


def clear_cache() -> None:
    with _indexes_lock:
        _indexes.clear()


def _snapshot(db: Database) -> _Snapshot:
    with db.read() as uow:
        repo = ArticlesRepository(uow.session)
        key = repo.fingerprint()  # read before the articles: a racing edit costs a rebuild, never a stale hit
        cached = _indexes.get(db.url)
        if cached is not None and cached.key == key:
            return cached
        published = repo.published()
        entries = {a.id: _Entry(a.slug, a.category, a.title_zh, a.title_en, a.body_zh, a.body_en) for a in published}
        tags = {a.id: tuple(a.tags or ()) for a in published}
    index = SearchIndex(
        IndexDoc(
            doc_id,
            f"{e.title_zh}\n{e.title_en}",
            tags[doc_id],
            # A placeholder's code is no word of the article: it is indexed without it.
            FACT_PLACEHOLDER.sub(" ", f"{plain_text(e.body_zh)}\n{plain_text(e.body_en)}"),
        )
        for doc_id, e in entries.items()
    )
    snapshot = _Snapshot(key, index, entries)
    with _indexes_lock:
        if len(_indexes) >= 16 and db.url not in _indexes:
            _indexes.pop(next(iter(_indexes)))
        _indexes[db.url] = snapshot
    return snapshot


def search(db: Database, query: str, lang: str, limit: int = 5) -> list[ArticleHit]:
    """Published articles answering `query` (Chinese, English or both), best first, in `lang`."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return []
    zh = normalize_lang(lang) == "zh-CN"
    snapshot = _snapshot(db)
    facts = _facts(db)
    hits = []
    for match in snapshot.index.search(query, max(1, min(limit, MAX_LIMIT)), MIN_SHARE):
        entry = snapshot.entries[match.doc_id]
        hits.append(
            ArticleHit(
                slug=entry.slug,
                title=entry.title_zh if zh else entry.title_en,
                snippet=snippet(fill_facts(entry.body_zh if zh else entry.body_en, facts, zh), query),
                score=match.score,
                coverage=match.coverage,
                category=entry.category,
                url=f"/help/{entry.slug}",
            )
        )
    return hits


# --- facts other contexts own, which articles quote through placeholders ----------------------
FactSource = Callable[[Database], dict[str, tuple[str, str]]]
# Registered at wiring (the SLA context's targets); knowledge imports no context that owns a fact.
_fact_sources: dict[str, FactSource] = {}


def register_facts(name: str, source: FactSource) -> None:
    _fact_sources[name] = source


def _facts(db: Database) -> dict[str, tuple[str, str]]:
    facts: dict[str, tuple[str, str]] = {}
    for source in _fact_sources.values():
        facts.update(source(db))
    return facts


# --- reading -------------------------------------------------------------------------------------
def get(db: Database, slug: str, *, include_unpublished: bool = False, as_written: bool = False) -> ArticleOut:
    """An article as readers see it, its placeholders filled from the SLA policy; `as_written`
    keeps them (the editor's form)."""
    with db.read() as uow:
        article = ArticlesRepository(uow.session).by_slug(slug)
        if article is None or not (article.published or include_unpublished):
            raise NotFound(f"No help article '{slug}'. Search the help center for your question instead.")
        out = ArticleOut.model_validate(article)
    if as_written:
        return out
    return rendered(db, out)


def rendered(db: Database, article: ArticleOut) -> ArticleOut:
    facts = _facts(db)
    return article.model_copy(
        update={
            "body_zh": fill_facts(article.body_zh, facts, True),
            "body_en": fill_facts(article.body_en, facts, False),
        }
    )


def list_by_category(db: Database) -> list[CategoryOut]:
    """The published articles grouped by category, categories in their fixed order, empty ones left out."""
    with db.read() as uow:
        articles = [ArticleOut.model_validate(a) for a in ArticlesRepository(uow.session).published()]
    groups = [CategoryOut(code=code, articles=[a for a in articles if a.category == code]) for code in CATEGORIES]
    return [group for group in groups if group.articles]


def list_all(db: Database) -> list[ArticleOut]:
    """Every article, published or not (the administrators' list)."""
    with db.read() as uow:
        articles = [ArticleOut.model_validate(a) for a in ArticlesRepository(uow.session).all()]
    order = {code: i for i, code in enumerate(CATEGORIES)}
    return sorted(articles, key=lambda a: (order.get(a.category, len(order)), a.id))


def record_view(db: Database, slug: str) -> None:
    with db.write() as uow:
        ArticlesRepository(uow.session).increment(slug, "views")
        uow.commit()


def mark_helpful(db: Database, slug: str) -> int:
    """A reader found the article helpful; returns the new count."""
    with db.write() as uow:
        count = ArticlesRepository(uow.session).increment(slug, "helpful")
        if count is None:
            raise NotFound(f"No help article '{slug}'.")
        uow.commit()
        return count


# --- editing -------------------------------------------------------------------------------------
def _admin(by: Principal) -> None:
    if not by.has(Role.ADMIN):
        raise Forbidden("Only administrators may write or change help articles.")


def _content(fields: ArticleIn) -> ArticleContent:
    try:
        return check_content(
            fields.category, fields.title_zh, fields.title_en, fields.body_zh, fields.body_en, fields.tags
        )
    except ArticleError as exc:
        raise Invalid(str(exc)) from exc


def _editor(by: Principal) -> str:
    return (by.display_name or by.username)[:120]


def create(db: Database, slug: str, fields: ArticleIn, by: Principal) -> ArticleOut:
    """A new article at /help/<slug>; the slug is its permanent address."""
    _admin(by)
    try:
        slug = check_slug(slug)
    except ArticleError as exc:
        raise Invalid(str(exc)) from exc
    content = _content(fields)
    taken = Conflict(f"An article with the address '{slug}' already exists; open it to edit, or choose another.")
    with db.write() as uow:
        repo = ArticlesRepository(uow.session)
        if repo.by_slug(slug) is not None:
            raise taken
        article = Article(slug=slug, published=fields.published, views=0, helpful=0, updated_by=_editor(by))
        _apply(article, content)
        repo.add(article)
        try:
            uow.commit()
        except IntegrityError as exc:
            raise taken from exc
        log.info("knowledge.article_created", slug=slug, by=by.username)
        return ArticleOut.model_validate(article)


def save(db: Database, slug: str, fields: ArticleIn, by: Principal) -> ArticleOut:
    """An administrator's edit. `fields.version` is the version the editor started from; a newer one is a 409."""
    _admin(by)
    content = _content(fields)
    with db.write() as uow:
        article = ArticlesRepository(uow.session).by_slug(slug)
        if article is None:
            raise NotFound(f"No help article '{slug}'.")
        if fields.version is not None and article.version != fields.version:
            raise Conflict(
                f"The article '{slug}' was changed by {article.updated_by} while you were editing it "
                f"(you edited version {fields.version}, it is now version {article.version}). "
                "Reload it and make your change again."
            )
        _apply(article, content)
        article.published = fields.published
        article.updated_by = _editor(by)
        # The stale-edit refusal is written out per editor on purpose: each names its own thing.
        try:
            uow.commit()
        except StaleDataError as exc:
            raise Conflict(
                f"The article '{slug}' was changed by someone else at the same time. Reload it and try again."
            ) from exc
        log.info("knowledge.article_saved", slug=slug, version=article.version, by=by.username)
        return ArticleOut.model_validate(article)
