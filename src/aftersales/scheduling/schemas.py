"""Input of the scheduling pages."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class RosterIn(BaseModel):
    """Agents of one skill group on shift from `start` to `end` (local "HH:MM") on `day`."""

    group_key: str = Field(min_length=1, max_length=64)
    day: date
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)
    agents: int = Field(ge=0, le=100_000)
