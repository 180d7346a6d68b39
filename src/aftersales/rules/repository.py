"""Every query of the rules context."""

from __future__ import annotations

from sqlalchemy import select

from aftersales.db.repository import Repository
from aftersales.rules.models import Policy


class PoliciesRepository(Repository):
    def by_key(self, key: str) -> Policy | None:
        return self.session.scalar(select(Policy).where(Policy.key == key))

    def keys(self) -> set[str]:
        return set(self.session.scalars(select(Policy.key)))

    def all(self) -> list[Policy]:
        return list(self.session.scalars(select(Policy).order_by(Policy.purpose, Policy.priority, Policy.key)))

    def enabled_for(self, purpose: str) -> list[Policy]:
        stmt = (
            select(Policy)
            .where(Policy.purpose == purpose, Policy.enabled.is_(True))
            .order_by(Policy.priority, Policy.key)
        )
        return list(self.session.scalars(stmt))
