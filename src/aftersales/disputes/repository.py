"""Every query of the disputes context; reads that serve a person are scoped by the principal."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, select

from aftersales.db.repository import Repository, locked
from aftersales.disputes.domain import BEFORE_RULING, FINAL
from aftersales.disputes.models import DepositEntry, Dispute, DisputeEvidence, MerchantDeposit
from aftersales.kit.access import Principal, Role


# Same shape as tickets.repository.scope_tickets on purpose: each context decides who sees its rows.
def scope_disputes(stmt: Select[Any], viewer: Principal) -> Select[Any]:
    """Platform staff see every dispute; a buyer their own; a merchant those against it."""
    if viewer.is_platform_staff:
        return stmt
    if viewer.role is Role.CUSTOMER:
        return stmt.where(Dispute.customer_id == viewer.customer_id) if viewer.customer_id else stmt.where(false())
    if viewer.role in (Role.MERCHANT, Role.INTEGRATION) and viewer.merchant_id:
        return stmt.where(Dispute.merchant_id == viewer.merchant_id)
    return stmt.where(false())


# by_number has the same shape as CasesRepository's on purpose: each repository reads its own table.
class DisputesRepository(Repository):
    def add_dispute(self, dispute: Dispute) -> Dispute:
        self.session.add(dispute)
        self.session.flush()
        return dispute

    def by_number(self, number: str, viewer: Principal, *, lock: bool = False) -> Dispute | None:
        stmt = scope_disputes(select(Dispute).where(Dispute.number == number), viewer)
        if lock:
            stmt = locked(stmt, Dispute)
        found: Dispute | None = self.session.scalar(stmt)
        return found

    def by_id(self, dispute_id: int) -> Dispute | None:
        return self.session.get(Dispute, dispute_id)

    def for_case(self, case_id: int) -> Dispute | None:
        return self.session.scalar(select(Dispute).where(Dispute.case_id == case_id))

    def numbers_by_id(self, ids: Collection[int]) -> dict[int, str]:
        rows = self.session.execute(select(Dispute.id, Dispute.number).where(Dispute.id.in_(ids)))
        return {row_id: number for row_id, number in rows}

    def queue(self, viewer: Principal, *, open_only: bool, limit: int) -> list[Dispute]:
        """Open disputes by their deadline, soonest first (the arbitrators' queue): senior reviews
        first, then by deadline, through the (status, deadline_at) index."""
        stmt = scope_disputes(select(Dispute), viewer)
        if open_only:
            stmt = stmt.where(Dispute.status.not_in([s.value for s in FINAL]))
        stmt = stmt.order_by(
            Dispute.senior_at.is_(None), Dispute.deadline_at.is_(None), Dispute.deadline_at, Dispute.id
        ).limit(limit)
        return list(self.session.scalars(stmt))

    def due(self, now: datetime, limit: int) -> list[int]:
        """Ids of disputes whose check has come, through the partial index on check_at."""
        stmt = (
            select(Dispute.id)
            .where(Dispute.check_at.is_not(None), Dispute.check_at <= now)
            .order_by(Dispute.check_at, Dispute.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def due_one(self, dispute_id: int, now: datetime, *, skip_locked: bool) -> Dispute | None:
        stmt = select(Dispute).where(Dispute.id == dispute_id, Dispute.check_at.is_not(None), Dispute.check_at <= now)
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        found: Dispute | None = self.session.scalar(stmt)
        return found

    def enforcing_with_refund(self, refund_id: int) -> Dispute | None:
        return self.session.scalar(select(Dispute).where(Dispute.refund_id == refund_id))

    def open_before_ruling(self, merchant_id: int) -> int:
        return (
            self.session.scalar(
                select(func.count(Dispute.id)).where(
                    Dispute.merchant_id == merchant_id, Dispute.status.in_([s.value for s in BEFORE_RULING])
                )
            )
            or 0
        )

    def add_evidence(self, item: DisputeEvidence) -> DisputeEvidence:
        self.session.add(item)
        self.session.flush()
        return item

    # --- deposits ---------------------------------------------------------------------------------
    def deposit(self, merchant_id: int, *, lock: bool = False) -> MerchantDeposit | None:
        stmt = select(MerchantDeposit).where(MerchantDeposit.merchant_id == merchant_id)
        if lock:  # two rulings paying from one deposit take turns
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        found: MerchantDeposit | None = self.session.scalar(stmt)
        return found

    def entry(self, key: str) -> DepositEntry | None:
        return self.session.scalar(select(DepositEntry).where(DepositEntry.key == key))

    def entries(self, merchant_id: int, limit: int = 50) -> list[DepositEntry]:
        stmt = (
            select(DepositEntry)
            .where(DepositEntry.merchant_id == merchant_id)
            .order_by(DepositEntry.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
