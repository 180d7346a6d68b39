"""Routing's words read as words in both languages: statuses, tiers, kinds and states of work."""

from __future__ import annotations

import pytest

from aftersales.routing.domain import AgentStatus, Tier, WorkKind, WorkState
from aftersales.web.i18n import translations

KEYS = sorted(
    {f"routing.status.{s.value}" for s in AgentStatus}
    | {f"routing.tier.{t.value}" for t in Tier}
    | {f"routing.kind.{k.value}" for k in WorkKind}
    | {f"routing.state.{s.value}" for s in WorkState}
    | {"action.routing.agent_changed"}
)


@pytest.mark.parametrize("key", KEYS)
def test_routing_keys_have_both_languages(key: str) -> None:
    zh, en = translations("zh-CN").gettext(key), translations("en").gettext(key)
    assert zh != key and en != key
    assert zh != en
