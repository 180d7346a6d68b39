"""Article files: Markdown with a small YAML front matter and both languages in one file.

    ---
    slug: returns-7-day
    category: returns
    title_zh: 七天无理由退货
    title_en: 7-day no-reason returns
    tags: [七天无理由, no-reason return]
    published: true            # optional, true by default
    ---
    <!-- lang: zh-CN -->
    …Chinese Markdown…
    <!-- lang: en -->
    …English Markdown…

Pure: text in, a checked `ArticleSpec` out; the error names the file and what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from aftersales.knowledge.domain import ArticleContent, ArticleError, check_content, check_slug

FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n(.*)\Z", re.S)
LANG_MARK = re.compile(r"^<!--\s*lang:\s*([A-Za-z-]+)\s*-->[ \t]*$", re.M)
FIELDS = frozenset({"slug", "category", "title_zh", "title_en", "tags", "published"})
REQUIRED = ("slug", "category", "title_zh", "title_en")


# Constants and dataclass shaped like other parsers' on purpose: an article file's own fields.
@dataclass(frozen=True, slots=True)
class ArticleSpec:
    slug: str
    content: ArticleContent
    published: bool
    source: str


def parse_article(text: str, source: str) -> ArticleSpec:
    try:
        return _parse(text, source)
    except ArticleError as exc:
        raise ArticleError(f"{source}: {exc}") from exc


def _parse(text: str, source: str) -> ArticleSpec:
    match = FRONT_MATTER.match(text)
    if not match:
        raise ArticleError("an article file starts with a front matter between two '---' lines")
    try:
        meta: Any = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise ArticleError(f"the front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ArticleError("the front matter must be key: value lines (slug, category, title_zh, title_en, tags)")
    unknown = set(meta) - FIELDS
    if unknown:
        raise ArticleError(
            f"unknown front-matter keys {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(FIELDS))}"
        )
    missing = [key for key in REQUIRED if not isinstance(meta.get(key), str) or not meta[key].strip()]
    if missing:
        raise ArticleError(f"the front matter needs a text for {', '.join(missing)}")
    tags = meta.get("tags", [])
    if not isinstance(tags, list):
        raise ArticleError("tags: give a list, e.g. [退货, return]")
    published = meta.get("published", True)
    if not isinstance(published, bool):
        raise ArticleError("published: write true or false")
    bodies = _bodies(match.group(2))
    content = check_content(
        meta["category"], meta["title_zh"], meta["title_en"], bodies["zh-CN"], bodies["en"], [str(t) for t in tags]
    )
    return ArticleSpec(check_slug(meta["slug"]), content, published, source)


def _bodies(text: str) -> dict[str, str]:
    marks = list(LANG_MARK.finditer(text))
    before_first = text[: marks[0].start()] if marks else text
    if before_first.strip():
        raise ArticleError("the text must start with a '<!-- lang: zh-CN -->' line")
    bodies: dict[str, str] = {}
    for i, mark in enumerate(marks):
        lang = mark.group(1)
        if lang not in ("zh-CN", "en"):
            raise ArticleError(f"unknown language '{lang}' in a lang marker; use zh-CN or en")
        if lang in bodies:
            raise ArticleError(f"the {lang} text appears twice")
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        bodies[lang] = text[mark.end() : end].strip()
    for lang in ("zh-CN", "en"):
        if lang not in bodies:
            raise ArticleError(f"the {lang} text is missing; add a '<!-- lang: {lang} -->' line before it")
    return bodies


def parse_articles(files: Iterable[tuple[str, str]]) -> list[ArticleSpec]:
    """(source name, text) pairs → checked specs; a slug used twice is an error."""
    specs: list[ArticleSpec] = []
    seen: dict[str, str] = {}
    for source, text in files:
        spec = parse_article(text, source)
        if spec.slug in seen:
            raise ArticleError(f"{source}: the slug '{spec.slug}' is already used by {seen[spec.slug]}")
        seen[spec.slug] = source
        specs.append(spec)
    return specs
