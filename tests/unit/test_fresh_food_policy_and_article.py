"""The fresh-food help article and the eligibility policies state the same facts: no no-reason
returns, and the number of days after receipt within which a problem is accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SRC = Path(__file__).parents[2] / "src" / "aftersales"
POLICIES = SRC / "rules" / "policies" / "defaults.yaml"
ARTICLE = SRC / "knowledge" / "articles" / "11-claims-fresh-food.md"


def conditions(policy: dict[str, Any]) -> list[dict[str, Any]]:
    when = policy["definition"]["when"]
    return list(when.get("all", [when]))


def fresh_food_policies() -> dict[str, dict[str, Any]]:
    policies = yaml.safe_load(POLICIES.read_text(encoding="utf-8"))
    return {
        p["key"]: p
        for p in policies
        if {"attr": "product.category", "op": "eq", "value": "fresh_food"} in conditions(p)
    }


def article() -> tuple[str, str]:
    text = ARTICLE.read_text(encoding="utf-8")
    zh, en = text.split("<!-- lang: en -->")
    return zh, en


def test_the_article_gives_the_policys_claim_window() -> None:
    policies = fresh_food_policies()
    windows = {
        c["value"]
        for p in policies.values()
        if p["definition"]["then"].get("eligible") is True
        for c in conditions(p)
        if c["attr"] == "order.days_since_receipt" and c["op"] == "lte"
    }
    assert len(windows) == 1, f"one claim window for fresh food, not {windows}"
    (days,) = windows
    zh, en = article()
    assert f"签收后 {days} 天内" in zh and f"Within {days} days of receipt" in en
    assert "小时" not in zh and "hours" not in en, "the article speaks of the window in the policy's unit"
    refused = [p for p in policies.values() if p["definition"]["then"].get("eligible") is False]
    late = [p for p in refused if {"attr": "order.days_since_receipt", "op": "gt", "value": days} in conditions(p)]
    assert late, "after the window a fresh-food problem is refused, as the article implies"


def test_the_article_and_the_policies_agree_there_are_no_no_reason_returns() -> None:
    no_reason = [
        p
        for p in fresh_food_policies().values()
        if {"attr": "case.reason", "op": "eq", "value": "changed_mind"} in conditions(p)
        and p["definition"]["then"].get("eligible") is False
    ]
    assert no_reason, "fresh food is excluded from no-reason returns"
    zh, en = article()
    assert "不支持七天无理由退换货" in zh and "cannot be returned without a reason" in en
