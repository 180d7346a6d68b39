"""Every query of the wallet context."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aftersales.wallet.models import ForceMajeure, IssuedCoupon, WalletEntry


class WalletRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: WalletEntry | ForceMajeure) -> None:
        self.session.add(row)
        self.session.flush()

    def by_key(self, idempotency_key: str) -> WalletEntry | None:
        entry: WalletEntry | None = self.session.scalar(
            select(WalletEntry).where(WalletEntry.idempotency_key == idempotency_key)
        )
        return entry

    def of_customer(self, customer_id: int, limit: int = 100) -> list[WalletEntry]:
        stmt = (
            select(WalletEntry)
            .where(WalletEntry.customer_id == customer_id)
            .order_by(WalletEntry.issued_at.desc(), WalletEntry.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def of_order(self, order_number: str) -> list[WalletEntry]:
        stmt = select(WalletEntry).where(WalletEntry.order_number == order_number).order_by(WalletEntry.id)
        return list(self.session.scalars(stmt))

    def count_by_trigger(self, trigger: str) -> int:
        return int(self.session.scalar(select(func.count()).where(WalletEntry.trigger == trigger)) or 0)

    def periods_around(self, start: datetime, end: datetime) -> list[ForceMajeure]:
        stmt = (
            select(ForceMajeure)
            .where(ForceMajeure.starts_at < end, ForceMajeure.ends_at > start)
            .order_by(ForceMajeure.starts_at)
        )
        return list(self.session.scalars(stmt))

    def recent_periods(self, limit: int = 50) -> list[ForceMajeure]:
        stmt = select(ForceMajeure).order_by(ForceMajeure.starts_at.desc()).limit(limit)
        return list(self.session.scalars(stmt))


class IssuerLedger:
    """The simulated issuer's own queries (another system's ledger)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_key(self, idempotency_key: str) -> IssuedCoupon | None:
        row: IssuedCoupon | None = self.session.scalar(
            select(IssuedCoupon).where(IssuedCoupon.idempotency_key == idempotency_key)
        )
        return row

    def add(self, row: IssuedCoupon) -> None:
        self.session.add(row)
        self.session.flush()

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(IssuedCoupon)) or 0)
