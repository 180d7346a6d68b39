"""Every query of the refunds context: our refunds and the simulated gateway's ledger. Order facts
come from aftersales.orders.service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select

from aftersales.db.repository import Repository
from aftersales.refunds.domain import RefundStatus
from aftersales.refunds.models import GatewayRefund, Refund


# Lookups by a unique key shaped like other repositories' on purpose: each reads its own table.
class RefundsRepository(Repository):
    def get(self, refund_id: int) -> Refund | None:
        return self.session.get(Refund, refund_id)

    def by_key(self, idempotency_key: str) -> Refund | None:
        refund: Refund | None = self.session.scalar(select(Refund).where(Refund.idempotency_key == idempotency_key))
        return refund

    def by_gateway_ref(self, gateway_ref: str) -> Refund | None:
        refund: Refund | None = self.session.scalar(select(Refund).where(Refund.gateway_ref == gateway_ref))
        return refund

    def for_order(self, order_id: int) -> list[Refund]:
        return list(self.session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))

    def for_case(self, case_id: int) -> list[Refund]:
        return list(self.session.scalars(select(Refund).where(Refund.case_id == case_id).order_by(Refund.id)))

    def amounts_on_order(self, order_id: int) -> list[tuple[Decimal, str]]:
        """Amounts and statuses of every refund of an order; summed in Python because SQLite keeps
        amounts as text and would add them as floats."""
        rows = self.session.execute(select(Refund.amount, Refund.status).where(Refund.order_id == order_id))
        return [(amount, status) for amount, status in rows]

    def submitted_before(self, cutoff: datetime, limit: int, now: datetime) -> list[Refund]:
        """Acknowledged refunds still waiting for their confirmation since before `cutoff`, except
        those the reconciliation failed to read and put back until later."""
        stmt = (
            select(Refund)
            .where(
                Refund.status == RefundStatus.SUBMITTED.value,
                Refund.submitted_at <= cutoff,
                or_(Refund.reconcile_after.is_(None), Refund.reconcile_after <= now),
            )
            .order_by(Refund.submitted_at, Refund.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))


class LedgerRepository(Repository):
    """The simulated gateway's own table: a real gateway keeps this on its side."""

    def by_key(self, idempotency_key: str) -> GatewayRefund | None:
        row: GatewayRefund | None = self.session.scalar(
            select(GatewayRefund).where(GatewayRefund.idempotency_key == idempotency_key)
        )
        return row

    def by_ref(self, gateway_ref: str) -> GatewayRefund | None:
        row: GatewayRefund | None = self.session.scalar(
            select(GatewayRefund).where(GatewayRefund.gateway_ref == gateway_ref)
        )
        return row
