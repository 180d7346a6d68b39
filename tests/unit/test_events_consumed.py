"""Every event the code publishes to the outbox is consumed: by a registered handler, or by the
outside world as a documented webhook. An event nobody hears is a promise ("we told the merchant")
that nothing keeps; this test finds one by reading the source, so a new event without a consumer
fails here before it ships."""

from __future__ import annotations

from pathlib import Path

from aftersales.messaging import outbox
from aftersales.worker.wiring import register_handlers

from .event_sources import publishers

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def published_topics() -> dict[str, list[str]]:
    """Topic → the modules that publish it (every event class is built only where it is published)."""
    return {topic: sorted(where) for topic, where in publishers().items() if where}


def test_the_scan_finds_the_outbox_publishers() -> None:
    topics = published_topics()
    # Known publishers, so a scan that silently finds nothing cannot pass.
    assert {"case.status_changed", "refund.requested", "sla.breached"} <= set(topics)


def test_every_published_event_has_a_consumer_or_is_a_documented_webhook() -> None:
    register_handlers()
    consumed = set(outbox.subscribed_topics())
    documented = set(outbox.WEBHOOK_TOPICS)
    api_doc = API_DOC.read_text(encoding="utf-8")
    for topic in documented:
        assert f"`{topic}`" in api_doc, f"webhook {topic} is not documented in docs/api.md"
    orphans = {t: where for t, where in published_topics().items() if t not in consumed | documented}
    assert orphans == {}, f"published but nobody consumes them: {orphans}"
