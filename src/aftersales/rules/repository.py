"""Every query of the rules context."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, select

from aftersales.db.repository import Repository
from aftersales.rules.models import Policy


# Same lookups as ArticlesRepository's on purpose: each repository reads its own table by its own key.
class PoliciesRepository(Repository):
    def by_key(self, key: str) -> Policy | None:
        return self.session.scalar(select(Policy).where(Policy.key == key))

    def keys(self) -> set[str]:
        return set(self.session.scalars(select(Policy.key)))

    def all(self) -> list[Policy]:
        # Eligibility first (the after-sales policies people read most), then the other purposes.
        first = case((Policy.purpose == "eligibility", 0), else_=1)
        return list(self.session.scalars(select(Policy).order_by(first, Policy.purpose, Policy.priority, Policy.key)))

    def enabled_for(self, purpose: str) -> list[Policy]:
        stmt = (
            select(Policy)
            .where(Policy.purpose == purpose, Policy.enabled.is_(True))
            .order_by(Policy.priority, Policy.key)
        )
        return list(self.session.scalars(stmt))

    def keys_by_id(self, policy_ids: Collection[int]) -> dict[int, str]:
        rows = self.session.execute(select(Policy.id, Policy.key).where(Policy.id.in_(policy_ids)))
        return {row_id: key for row_id, key in rows}
