"""The rules context names case kinds and reasons without importing the cases context (the arrows
forbid it); these lists must stay the same words as the cases' own."""

from __future__ import annotations

from typing import get_args

from aftersales.cases.domain import CaseKind, CaseReason
from aftersales.rules import domain, schemas


def test_kinds_and_reasons_match_the_cases_context() -> None:
    assert set(domain.KINDS) == {k.value for k in CaseKind}
    assert set(domain.REASONS) == {r.value for r in CaseReason}
    assert set(get_args(schemas.Kind)) == set(domain.KINDS)
    assert set(get_args(schemas.Reason)) == set(domain.REASONS)
