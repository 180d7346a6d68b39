"""Settings of the cases context, from the same AFTERSALES_ environment as everything else.

When the application's Settings (aftersales.config) carries a field of the same name, its value
wins, so settings passed to create_app() in code reach the cases too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftersales.config import get_settings


class CaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", env_file=".env", extra="ignore")

    # An urged order becomes a task on the merchant's list, due this many hours later.
    urge_answer_hours: Annotated[int, Field(ge=1, le=720)] = 24


def case_settings() -> CaseSettings:
    app = get_settings()
    overrides = {name: getattr(app, name) for name in CaseSettings.model_fields if hasattr(app, name)}
    return CaseSettings(**overrides)
