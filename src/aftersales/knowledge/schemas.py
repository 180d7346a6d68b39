"""Pydantic shapes of help articles, search hits and the search API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from aftersales.knowledge.domain import normalize_lang


class ArticleIn(BaseModel):
    """An administrator's edit: both languages, the category, tags and whether it is public.

    Checked by the service (`domain.check_content`), which answers with a sentence (422)."""

    category: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    tags: list[str] = Field(default_factory=list)
    published: bool = True
    version: int | None = Field(default=None, description="the version you edited; a newer one gives 409")


# Same fields as knowledge.service._Entry on purpose: that is the search index's frozen copy of the words.
class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    category: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    tags: list[str]
    published: bool
    views: int
    helpful: int
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def url(self) -> str:
        return f"/help/{self.slug}"

    def title(self, lang: str) -> str:
        return self.title_zh if normalize_lang(lang) == "zh-CN" else self.title_en

    def body(self, lang: str) -> str:
        return self.body_zh if normalize_lang(lang) == "zh-CN" else self.body_en


class CategoryOut(BaseModel):
    code: str
    articles: list[ArticleOut]


class ArticleHit(BaseModel):
    """One search result, in the asker's language."""

    slug: str
    title: str
    snippet: str = Field(description="the passage that answers the query best, plain text")
    score: float = Field(description="BM25 score; comparable only within one query")
    coverage: float = Field(description="share of the query's terms the article matched, 0–1")
    category: str
    url: str = Field(description="absolute path of the article on the help center, e.g. /help/returns-7-day")


class SearchOut(BaseModel):
    query: str
    lang: str
    hits: list[ArticleHit]
