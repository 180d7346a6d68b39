"""Every text the pages show has a Chinese translation, and every dotted key an English one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aftersales.cases.domain import CaseAction, CaseKind, CaseReason, CaseStatus
from aftersales.kit.access import Role
from aftersales.orders.domain import LogisticsNode, OrderStatus, ShipmentStatus
from aftersales.rules.domain import OFFERS, PAYERS, RESOLUTIONS
from aftersales.web.i18n import translations

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "aftersales" / "web" / "templates"
LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*[,)]""")


def _template_literals() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        for match in LITERAL.finditer(path.read_text(encoding="utf-8")):
            text = match.group(2)
            if "~" not in text:
                found.add(text)
    return found


def _dotted_keys() -> set[str]:
    keys = {f"order.{s.value}" for s in OrderStatus}
    keys |= {f"shipment.{s.value}" for s in ShipmentStatus}
    keys |= {f"node.{n.value}" for n in LogisticsNode}
    keys |= {f"role.{r.value}" for r in Role}
    keys |= {f"case.{s.value}" for s in CaseStatus}
    keys |= {f"kind.{k.value}" for k in CaseKind}
    keys |= {f"reason.{r.value}" for r in CaseReason}
    keys |= {f"action.case.{a.value}" for a in CaseAction}
    keys |= {f"do.{a.value}" for a in CaseAction if a not in (CaseAction.REFUND_SETTLED, CaseAction.REFUND_FAILED)}
    keys |= {f"payer.{p}" for p in PAYERS} | {f"resolution.{r}" for r in RESOLUTIONS} | {f"offer.{o}" for o in OFFERS}
    keys |= {f"refund.{s}" for s in ("requested", "submitted", "succeeded", "failed")}
    return keys


@pytest.mark.parametrize("text", sorted(_template_literals()))
def test_template_text_has_a_chinese_translation(text: str) -> None:
    assert translations("zh-CN").gettext(text) != text or not re.search(r"[A-Za-z]", text), text


@pytest.mark.parametrize("key", sorted(_dotted_keys()))
def test_dotted_keys_read_as_words_in_both_languages(key: str) -> None:
    assert translations("zh-CN").gettext(key) != key
    assert translations("en").gettext(key) != key
