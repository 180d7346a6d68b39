"""The delivery articles promise proactive notices only with the thresholds the detectors use."""

from __future__ import annotations

from aftersales.db.uow import Database
from aftersales.knowledge import service as knowledge
from aftersales.proactive import service as proactive
from aftersales.worker.wiring import register_handlers


def test_the_delivery_articles_quote_the_detectors_thresholds(db: Database) -> None:
    knowledge.load_articles(db)
    register_handlers()  # what the web app and the worker do: the facts articles quote
    facts = proactive.help_facts(db)
    assert facts["proactive.stall_domestic"] == ("2 个工作日", "2 working days")
    tracking = knowledge.get(db, "delivery-tracking")
    times = knowledge.get(db, "delivery-times")
    assert "{{" not in tracking.body_zh + tracking.body_en + times.body_zh + times.body_en
    assert "包裹 2 个工作日（国际包裹 5 个工作日）没有新的物流记录" in tracking.body_zh
    assert "no new scan for 2 working days" in times.body_en
    assert "7 天没有任何物流记录" in tracking.body_zh
