"""Every query of the integrations context."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from aftersales.integrations.models import Integration, WebhookDelivery


class IntegrationsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    def integration(self, integration_id: int) -> Integration | None:
        return self.session.get(Integration, integration_id)

    def integrations(self) -> list[Integration]:
        return list(self.session.scalars(select(Integration).order_by(Integration.id)))

    def delivery(self, delivery_id: int) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id)

    def delivery_by_event(self, integration_id: int, event_id: str) -> WebhookDelivery | None:
        return self.session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.integration_id == integration_id, WebhookDelivery.event_id == event_id
            )
        )

    def recent_deliveries(self, integration_id: int, limit: int, *, failed_only: bool = False) -> list[WebhookDelivery]:
        stmt = select(WebhookDelivery).where(WebhookDelivery.integration_id == integration_id)
        if failed_only:
            stmt = stmt.where(WebhookDelivery.result == "failed")
        stmt = stmt.order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc()).limit(limit)
        return list(self.session.scalars(stmt))
