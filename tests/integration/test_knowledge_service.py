"""The knowledge service on a real database: loading the starter articles, searching, editing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.knowledge import service
from aftersales.knowledge.domain import ArticleError
from aftersales.knowledge.models import Article
from aftersales.knowledge.schemas import ArticleIn, ArticleOut

from .helpers import ADMIN

AGENT = Principal(user_id=0, username="agent", role=Role.AGENT_T1, display_name="agent")


@pytest.fixture
def loaded(db: Database) -> int:
    return service.load_articles(db)


def edit_of(article: ArticleOut, **changes: object) -> ArticleIn:
    data = article.model_dump(include={"category", "title_zh", "title_en", "body_zh", "body_en", "tags", "published"})
    data["version"] = article.version
    data.update(changes)
    return ArticleIn.model_validate(data)


def test_loading_inserts_once_and_keeps_admin_edits(db: Database, loaded: int) -> None:
    assert loaded == len(service.read_article_files()) >= 16
    article = service.get(db, "invoices")
    assert article.version == 1 and article.updated_by == "system" and article.published
    service.save(db, "invoices", edit_of(article, title_en="Invoices (edited)"), ADMIN)
    assert service.load_articles(db) == 0
    assert service.get(db, "invoices").title_en == "Invoices (edited)"
    assert len(service.list_all(db)) == loaded


def test_a_bad_file_changes_nothing_and_is_named(db: Database, tmp_path: Path) -> None:
    good = (service.ARTICLES_DIR / "18-invoices.md").read_text(encoding="utf-8")
    (tmp_path / "a.md").write_text(good, encoding="utf-8")
    (tmp_path / "b.md").write_text(
        good.replace("slug: invoices", "slug: other").replace("category: invoices", "category: toys")
    )
    with pytest.raises(ArticleError, match=r"b\.md: The category 'toys' is unknown"):
        service.load_articles(db, tmp_path)
    assert service.list_all(db) == []
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArticleError, match="no article files"):
        service.load_articles(db, tmp_path / "empty")
    with pytest.raises(ArticleError, match="cannot read the articles"):
        service.load_articles(db, tmp_path / "missing.md")
    assert service.load_articles(db, tmp_path / "a.md") == 1


@pytest.mark.usefixtures("loaded")
def test_search_answers_in_the_askers_language(db: Database) -> None:
    [first, *_] = service.search(db, "怎么退货", "zh-CN")
    assert first.slug == "returns-how-to" and first.url == "/help/returns-how-to"
    assert first.title == "如何退货：上门取件或自行寄回" and "退货" in first.snippet
    assert first.score > 0 and 0 < first.coverage <= 1 and first.category == "returns"
    [english, *_] = service.search(db, "怎么退货", "en")
    assert english.slug == "returns-how-to" and english.title.startswith("How to return")
    assert service.search(db, "refund how long", "en-US")[0].slug == "refunds-timing"
    assert service.search(db, "退款多久到账", "zh", 3)[0].slug == "refunds-timing"
    assert len(service.search(db, "退货", "zh-CN", limit=2)) == 2
    assert service.search(db, "   ", "zh-CN") == [] and service.search(db, "你好", "zh-CN") == []


@pytest.mark.usefixtures("loaded")
def test_edits_show_in_search_at_once(db: Database) -> None:
    assert service.search(db, "洗碗机", "zh-CN") == []
    article = service.get(db, "repairs-warranty")
    service.save(db, article.slug, edit_of(article, tags=[*article.tags, "洗碗机"]), ADMIN)
    assert service.search(db, "洗碗机", "zh-CN")[0].slug == "repairs-warranty"
    article = service.get(db, "repairs-warranty")
    service.save(db, article.slug, edit_of(article, published=False), ADMIN)
    assert all(hit.slug != "repairs-warranty" for hit in service.search(db, "洗碗机 保修 维修", "zh-CN"))
    with pytest.raises(NotFound):
        service.get(db, "repairs-warranty")
    assert service.get(db, "repairs-warranty", include_unpublished=True).published is False


@pytest.mark.usefixtures("loaded")
def test_a_change_made_by_another_process_is_seen(db: Database, settings: object) -> None:
    assert service.search(db, "invoice", "en")[0].slug == "invoices"
    # Another process edits the row: no in-process hook hears of it, only the fingerprint changes.
    other = Database(db.url)
    with other.write() as uow:
        article = uow.session.scalar(select(Article).where(Article.slug == "payments"))
        assert article is not None
        article.title_en = "Payments and invoice problems"
        article.tags = [*article.tags, "发票抬头开错"]
        uow.commit()
    assert service.search(db, "发票抬头开错", "zh-CN")[0].slug == "payments"
    with other.write() as uow:
        uow.session.execute(update(Article).where(Article.slug == "payments").values(published=False))
        uow.commit()
    assert all(hit.slug != "payments" for hit in service.search(db, "发票抬头开错", "zh-CN"))


@pytest.mark.usefixtures("loaded")
def test_save_refuses_stale_versions_bad_content_and_non_admins(db: Database) -> None:
    article = service.get(db, "price-protection")
    saved = service.save(db, article.slug, edit_of(article, title_zh="价保（新）"), ADMIN)
    assert saved.version == 2 and saved.updated_by == "root" and saved.title_zh == "价保（新）"
    with pytest.raises(Conflict, match=r"changed by root .*you edited version 1, it is now version 2"):
        service.save(db, article.slug, edit_of(article, title_zh="价保（旧）"), ADMIN)
    with pytest.raises(Invalid, match="The English title is empty"):
        service.save(db, article.slug, edit_of(saved, title_en=" "), ADMIN)
    with pytest.raises(Invalid, match="category 'toys' is unknown"):
        service.save(db, article.slug, edit_of(saved, category="toys"), ADMIN)
    with pytest.raises(Forbidden, match="Only administrators"):
        service.save(db, article.slug, edit_of(saved), AGENT)
    with pytest.raises(NotFound):
        service.save(db, "no-such-article", edit_of(saved), ADMIN)
    assert service.get(db, article.slug).version == 2


@pytest.mark.usefixtures("loaded")
def test_create_new_articles(db: Database) -> None:
    fields = edit_of(service.get(db, "invoices"), title_zh="开票须知", title_en="Invoice basics", version=None)
    created = service.create(db, "invoice-basics", fields, ADMIN)
    assert created.version == 1 and created.url == "/help/invoice-basics"
    assert service.get(db, "invoice-basics").title_en == "Invoice basics"
    with pytest.raises(Conflict, match="already exists"):
        service.create(db, "invoice-basics", fields, ADMIN)
    with pytest.raises(Invalid, match="reserved"):
        service.create(db, "search", fields, ADMIN)
    with pytest.raises(Invalid, match="lower-case"):
        service.create(db, "Bad Slug", fields, ADMIN)
    with pytest.raises(Forbidden):
        service.create(db, "by-agent", fields, AGENT)


@pytest.mark.usefixtures("loaded")
def test_helpful_votes_and_views_count_without_touching_the_version(db: Database) -> None:
    assert service.mark_helpful(db, "delivery-times") == 1
    assert service.mark_helpful(db, "delivery-times") == 2
    service.record_view(db, "delivery-times")
    article = service.get(db, "delivery-times")
    assert (article.helpful, article.views, article.version) == (2, 1, 1)
    # an editor who opened version 1 before the votes can still save
    service.save(db, article.slug, edit_of(article), ADMIN)
    service.save(db, "delivery-urge", edit_of(service.get(db, "delivery-urge"), published=False), ADMIN)
    with pytest.raises(NotFound):
        service.mark_helpful(db, "delivery-urge")
    with pytest.raises(NotFound):
        service.mark_helpful(db, "no-such-article")


@pytest.mark.usefixtures("loaded")
def test_categories_list_published_articles_in_order(db: Database) -> None:
    groups = service.list_by_category(db)
    assert [g.code for g in groups][:3] == ["returns", "refunds", "exchange_repair"]
    assert [a.slug for a in groups[0].articles][:2] == ["returns-7-day", "returns-how-to"]
    contact = service.get(db, "contact-human")
    service.save(db, contact.slug, edit_of(contact, published=False), ADMIN)
    assert "contact" not in [g.code for g in service.list_by_category(db)]
