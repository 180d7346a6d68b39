"""The web app is the composition root that gives the assistant its desk: the tickets service."""

from __future__ import annotations

from typing import Any

from aftersales.assistant import handoff
from aftersales.tickets import service as tickets


def test_the_web_app_binds_the_tickets_service_as_the_assistants_desk(app: Any) -> None:
    assert handoff.desk() is tickets
