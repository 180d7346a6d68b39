"""Timeline entries as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class TimelineLine(BaseModel):
    """One line of a subject's history as a page shows it; a case's and an order's add what they need."""

    action: str
    actor_kind: str
    actor_name: str
    from_state: str | None
    to_state: str | None
    reason: str
    occurred_at: datetime


# Written out beside TimelineLine on purpose: the audit API's entries name their subject first and
# carry the evidence between the reason and the time, an order API clients already read.
class TimelineEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    subject_type: str
    subject_id: int
    action: str
    actor_kind: str
    actor_name: str
    from_state: str | None
    to_state: str | None
    reason: str
    evidence: dict[str, Any]
    occurred_at: datetime
    # How people know the subject (an order's number…), filled where the audit log shows it.
    subject_name: str = ""
