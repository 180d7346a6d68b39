"""Every query of the knowledge context."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from aftersales.db.repository import Repository
from aftersales.knowledge.models import Article


# Same lookups as PoliciesRepository's on purpose: each repository reads its own table by its own key.
class ArticlesRepository(Repository):
    def by_slug(self, slug: str) -> Article | None:
        return self.session.scalar(select(Article).where(Article.slug == slug))

    def slugs(self) -> set[str]:
        return set(self.session.scalars(select(Article.slug)))

    def all(self) -> list[Article]:
        return list(self.session.scalars(select(Article).order_by(Article.id)))

    def published(self) -> list[Article]:
        return list(self.session.scalars(select(Article).where(Article.published.is_(True)).order_by(Article.id)))

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever a published article is added, edited, (un)published or removed.

        Edits bump `version` (so the sum moves even when two edits share a timestamp or the
        clock is frozen); `updated_at`, the count and the highest id catch the rest.
        """
        row = self.session.execute(
            select(
                func.count(Article.id),
                func.max(Article.id),
                func.sum(Article.version),
                func.max(Article.updated_at),
            ).where(Article.published.is_(True))
        ).one()
        return tuple(str(value) for value in row)

    def increment(self, slug: str, column: str, published_only: bool = True) -> int | None:
        """Add one to a counter (views, helpful) in the database itself: no lost clicks, and no
        version bump, so an editor's open form stays valid."""
        counter = getattr(Article, column)
        stmt = update(Article).where(Article.slug == slug).values({column: counter + 1})
        if published_only:
            stmt = stmt.where(Article.published.is_(True))
        result = self.session.execute(stmt.execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) == 0:
            return None
        return self.session.scalar(select(counter).where(Article.slug == slug))
