"""Settings of the refunds context, from the same AFTERSALES_ environment as everything else.

When the application's Settings (aftersales.config) carries a field of the same name, its value
wins, so settings passed to create_app() in code reach the refunds too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftersales.config import get_settings


class RefundSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    # Share of submissions the simulated gateway answers with a transient error; unset means 0 in
    # tests and 0.05 elsewhere (the demo).
    refund_gateway_failure_rate: Annotated[float | None, Field(ge=0, le=1)] = None
    # Seed of the simulator's failures, for a repeatable run; unset means random.
    refund_gateway_seed: int | None = None
    # How long after accepting a refund the simulator confirms it.
    refund_gateway_confirm_delay_seconds: Annotated[float, Field(ge=0, le=3600)] = 2.0
    # Simulated network time of one submission (half before the gateway records it, half after).
    refund_gateway_latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0
    # Acknowledged refunds without a confirmation for this long are looked up at the gateway.
    refund_reconcile_after_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] = 120
    # Shared secret of the gateway's signed callbacks. The application's Settings carries it too, and
    # resolves it there: made at random and kept in the data folder when unset, required in production.
    refund_gateway_callback_secret: str = ""

    @property
    def failure_rate(self) -> float:
        if self.refund_gateway_failure_rate is not None:
            return self.refund_gateway_failure_rate
        return 0.0 if self.env == "test" else 0.05


def refund_settings() -> RefundSettings:
    app = get_settings()
    overrides = {name: getattr(app, name) for name in RefundSettings.model_fields if hasattr(app, name)}
    return RefundSettings(**overrides)
