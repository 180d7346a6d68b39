"""Help says what the system does: the contact article's complaint times are the SLA policy's, per
priority, and the delivery article's cut-off, cities and days are the delivery promise the order
system stamps on shipments. Articles hold placeholders, never figures of their own, so an edited
policy shows in help at once and a figure written into an article fails here."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import text

from aftersales.db.uow import Database
from aftersales.demo.seed import seed_demo
from aftersales.kit import clock
from aftersales.knowledge import service as knowledge
from aftersales.orders import service as orders
from aftersales.orders.delivery_promise import PROMISE
from aftersales.sla import admin
from aftersales.sla.domain import duration_text
from aftersales.sla.schemas import PolicyIn
from aftersales.worker import wiring

from .helpers import ADMIN

SH = ZoneInfo("Asia/Shanghai")
# A figure an article would have to keep true by hand: a duration, a clock time, a span of days.
FIGURE = re.compile(
    r"\d+\s*(?:小时|分钟|天|hours?|minutes?|days?)\b|\d+\s*(?:小时|分钟|天)|\b\d{1,2}:\d{2}\b|\d+\s*[–-]\s*\d+"
)


def _body(slug: str) -> str:
    spec = next(s for s in knowledge.read_article_files() if s.slug == slug)
    return f"{spec.content.body_zh}\n{spec.content.body_en}"


@pytest.mark.parametrize("slug", ["contact-human", "delivery-times"])
def test_the_article_writes_no_figure_of_its_own(slug: str) -> None:
    body = re.sub(r"\{\{[^}]*\}\}", " ", _body(slug))
    assert FIGURE.findall(body) == []


@pytest.fixture
def facts(db: Database) -> Database:
    admin.load_defaults(db)
    knowledge.load_articles(db)
    wiring.register_handlers()  # what the web app and the worker do: the facts articles quote
    return db


def test_every_complaint_priority_gets_the_times_its_clocks_count(facts: Database) -> None:
    article = knowledge.get(facts, "contact-human")
    cells = {(p.priority, p.metric): p for p in admin.list_policies(facts) if p.ticket_type == "complaint"}
    assert {priority for priority, _m in cells} == {"urgent", "high", "medium", "low"}
    for (priority, metric), policy in cells.items():
        zh, en = duration_text(policy.target_minutes, "zh"), duration_text(policy.target_minutes, "en")
        line_zh = next(line for line in article.body_zh.splitlines() if line.startswith(f"- **{ZH[priority]}**"))
        line_en = next(line for line in article.body_en.splitlines() if line.startswith(f"- **{EN[priority]}**"))
        assert zh in line_zh and en in line_en, (priority, metric)
        counted = "按服务时间计" if policy.business_hours else "全天候计时"
        assert counted in line_zh
    assert "{{" not in article.body_zh + article.body_en and "—" not in article.body_zh
    # The high-priority complaint's resolution, edited: help says the new time at once.
    high = cells["high", "resolution"]
    admin.update_policy(
        facts, high.id, PolicyIn(target_minutes=600, calendar_key=high.calendar_key, version=high.version), ADMIN
    )
    line = next(line for line in knowledge.get(facts, "contact-human").body_zh.splitlines() if "高优先级" in line)
    assert "10 小时内处理完毕" in line


ZH = {"urgent": "紧急", "high": "高优先级", "medium": "一般", "low": "低优先级"}
EN = {"urgent": "Urgent", "high": "High priority", "medium": "Normal", "low": "Low priority"}


def test_the_delivery_article_states_the_promise(facts: Database) -> None:
    article = knowledge.get(facts, "delivery-times")
    cutoff = f"{PROMISE.cutoff:%H:%M}"
    assert f"{cutoff} 前下单并付款，当天送达" in article.body_zh and f"before {cutoff}" in article.body_en
    assert cutoff in article.title_zh and cutoff in article.title_en
    assert "上海" in article.body_zh and "Shanghai" in article.body_en
    low, high = PROMISE.elsewhere_days
    assert f"{low}–{high} 天" in article.body_zh and f"{low}–{high} days" in article.body_en
    assert f"{PROMISE.marketplace_ship_hours} 小时内" in article.body_zh
    assert "{{" not in article.body_zh + article.body_en and "—" not in article.body_zh + article.body_en


def test_a_shanghai_order_paid_before_the_cutoff_is_due_that_evening() -> None:
    morning, noon = datetime(2026, 6, 9, 10, 30, tzinfo=SH), datetime(2026, 6, 9, 11, 30, tzinfo=SH)
    assert orders.promised_delivery(True, "上海市 浦东新区", morning, SH) == datetime(2026, 6, 9, 22, 0, tzinfo=SH)
    assert orders.promised_delivery(True, "上海市 浦东新区", noon, SH) == datetime(2026, 6, 10, 22, 0, tzinfo=SH)
    assert orders.promised_delivery(True, "新疆 乌鲁木齐市", noon, SH) == datetime(2026, 6, 16, 22, 0, tzinfo=SH)
    assert orders.promised_delivery(False, "上海市 浦东新区", noon, SH) == datetime(2026, 6, 16, 22, 0, tzinfo=SH)


def test_the_demo_shops_shipments_are_promised_as_help_says(db: Database) -> None:
    seed_demo(db, customers=6, orders=40, seed=7, console=Console(file=io.StringIO()))
    with db.read() as uow:
        found = list(
            uow.session.execute(
                text(
                    "SELECT o.number, o.address_region, m.kind, o.paid_at, s.promised_at FROM shipments s "
                    "JOIN orders o ON o.id = s.order_id JOIN merchants m ON m.id = o.merchant_id"
                )
            )
        )
    assert found
    for number, region, kind, paid_at, promised_at in found:
        due = orders.promised_delivery(kind == "self_operated", region, _at(paid_at), SH)
        assert _at(promised_at) == due, number


def _at(value: datetime | str) -> datetime:
    return clock.ensure_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)
