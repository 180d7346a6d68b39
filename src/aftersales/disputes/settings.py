"""Settings of the disputes context: every deadline of the process, in calendar hours, from the
same AFTERSALES_ environment as everything else (defaults from issue 15's table)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftersales.config import get_settings
from aftersales.disputes.domain import Deadlines

_Hours = Annotated[int, Field(ge=1, le=24 * 366)]


class DisputeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALES_DISPUTE_", env_file=".env", extra="ignore")

    # A POP merchant silent on a buyer's request this long accepts it (before / after shipping).
    merchant_answer_not_shipped_hours: _Hours = 48
    merchant_answer_shipped_hours: _Hours = 5 * 24
    escalation_window_hours: _Hours = 7 * 24
    accept_hours: _Hours = 24
    evidence_round_hours: _Hours = 48
    max_evidence_rounds: Annotated[int, Field(ge=1, le=5)] = 2
    review_hours: _Hours = 48
    offline_refund_hours: _Hours = 48
    appeal_window_hours: _Hours = 30 * 24
    appeal_decision_hours: _Hours = 48

    def deadlines(self) -> Deadlines:
        return Deadlines(
            escalation_window=self.escalation_window_hours,
            accept=self.accept_hours,
            evidence_round=self.evidence_round_hours,
            max_rounds=self.max_evidence_rounds,
            review=self.review_hours,
            offline_refund=self.offline_refund_hours,
            appeal_window=self.appeal_window_hours,
            appeal_decision=self.appeal_decision_hours,
        )


def dispute_settings() -> DisputeSettings:
    app = get_settings()
    overrides = {name: getattr(app, name) for name in DisputeSettings.model_fields if hasattr(app, name)}
    return DisputeSettings(**overrides)


def deadlines() -> Deadlines:
    return dispute_settings().deadlines()
