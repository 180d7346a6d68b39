"""Every event the code publishes to the outbox is consumed: by a registered handler, or by the
outside world as a documented webhook. An event nobody hears is a promise ("we told the merchant")
that nothing keeps; this test finds one by reading the source, so a new publish() without a
consumer fails here before it ships."""

from __future__ import annotations

import ast
from pathlib import Path

from aftersales.messaging import outbox
from aftersales.worker.wiring import register_handlers

SRC = Path(__file__).resolve().parents[2] / "src" / "aftersales"
API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" assignments (topics are often named constants)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def published_topics() -> dict[str, list[str]]:
    """Topic → the places that publish it, from every publish(session, topic, …) call in src."""
    topics: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called != "publish" or (isinstance(func, ast.Attribute) and _is_live_hub(func)):
                continue
            topic = node.args[1]
            if isinstance(topic, ast.Constant) and isinstance(topic.value, str):
                value = topic.value
            elif isinstance(topic, ast.Name) and topic.id in names:
                value = names[topic.id]
            else:
                raise AssertionError(
                    f"{path.relative_to(SRC)}:{node.lineno}: publish() with a topic this test cannot read"
                )
            topics.setdefault(value, []).append(f"{path.relative_to(SRC)}:{node.lineno}")
    return topics


def _is_live_hub(func: ast.Attribute) -> bool:
    # live.py's in-process/Redis fan-out has its own publish(channel, name); it is not the outbox.
    return not (isinstance(func.value, ast.Name) and func.value.id == "outbox")


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
