"""The rules context names case kinds and reasons without importing the cases context (the arrows
forbid it): both read the one definition in kit.vocabulary."""

from __future__ import annotations

from aftersales.cases.domain import CaseKind, CaseReason
from aftersales.rules import domain, schemas


def test_kinds_and_reasons_match_the_cases_context() -> None:
    assert tuple(k.value for k in CaseKind) == domain.KINDS
    assert tuple(r.value for r in CaseReason) == domain.REASONS
    assert schemas.DryRunIn.model_fields["kind"].annotation == CaseKind | None
    assert schemas.DryRunIn.model_fields["reason"].annotation == CaseReason | None
