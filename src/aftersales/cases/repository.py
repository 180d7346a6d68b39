"""Every query of the cases context; reads that serve a person are scoped by the principal."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, false, func, select

from aftersales.cases.domain import AWAITING_DECISION, CLAIMING, CaseKind, CaseStatus
from aftersales.cases.models import Case, CaseLine, MerchantTask, OrderAction
from aftersales.db.repository import Repository, interval_index, locked
from aftersales.kit.access import Principal, Role
from aftersales.kit.pagination import Page, PageRequest


def scope_cases(stmt: Select[Any], viewer: Principal) -> Select[Any]:
    if viewer.is_platform_staff:
        return stmt
    if viewer.role is Role.CUSTOMER:
        return stmt.where(Case.customer_id == viewer.customer_id) if viewer.customer_id else stmt.where(false())
    if viewer.role in (Role.MERCHANT, Role.WAREHOUSE) or (
        viewer.role is Role.INTEGRATION and viewer.merchant_id is not None
    ):
        return stmt.where(Case.merchant_id == viewer.merchant_id) if viewer.merchant_id else stmt.where(false())
    if viewer.role is Role.INTEGRATION:
        return stmt
    return stmt.where(false())


# Same shape as tickets.repository.scope_tickets on purpose: each context decides who sees its rows.
def scope_merchant_tasks(stmt: Select[Any], viewer: Principal) -> Select[Any]:
    """Platform staff see every merchant's tasks; a merchant or its warehouse only its own."""
    if viewer.is_platform_staff:
        return stmt
    if viewer.role in (Role.MERCHANT, Role.WAREHOUSE) and viewer.merchant_id:
        return stmt.where(MerchantTask.merchant_id == viewer.merchant_id)
    return stmt.where(false())


# by_number has the same shape as the tickets' and disputes' on purpose: each repository reads its own table.
class CasesRepository(Repository):
    def by_number(self, number: str, viewer: Principal, *, lock: bool = False) -> Case | None:
        """With `lock`, the case row stays locked (see `locked`)."""
        stmt = scope_cases(select(Case).where(Case.number == number), viewer)
        if lock:
            stmt = locked(stmt, Case)
        case: Case | None = self.session.scalar(stmt)
        return case

    def open_case_for_line(self, order_line_id: int, reason: str) -> Case | None:
        """A case for this reason on this order line that still claims it (not rejected or cancelled)."""
        stmt = (
            select(Case)
            .join(CaseLine, CaseLine.case_id == Case.id)
            .where(
                CaseLine.order_line_id == order_line_id,
                Case.reason == reason,
                Case.status.in_([s.value for s in CLAIMING]),
            )
            .order_by(Case.id)
            .limit(1)
        )
        case: Case | None = self.session.scalar(stmt)
        return case

    def by_id(self, case_id: int) -> Case | None:
        return self.session.get(Case, case_id)

    def by_idempotency_key(self, key: str) -> Case | None:
        return self.session.scalar(select(Case).where(Case.idempotency_key == key))

    def claimed_per_line(self, order_id: int) -> dict[int, int]:
        """Quantity per order line already in open or completed cases."""
        rows = self.session.execute(
            select(CaseLine.order_line_id, func.sum(CaseLine.quantity))
            .join(Case, Case.id == CaseLine.case_id)
            .where(Case.order_id == order_id, Case.status.in_([s.value for s in CLAIMING]))
            .group_by(CaseLine.order_line_id)
        )
        return {line_id: int(total or 0) for line_id, total in rows}

    def compensation_claimed(self, order_id: int, *, except_case_id: int | None = None) -> Decimal:
        """What open and approved compensation cases on the order add up to (the approved amount
        where one was set, else the amount claimed)."""
        stmt = select(func.sum(func.coalesce(Case.approved_amount, Case.requested_amount))).where(
            Case.order_id == order_id,
            Case.kind == CaseKind.COMPENSATION.value,
            Case.status.in_([s.value for s in CLAIMING]),
        )
        if except_case_id is not None:
            stmt = stmt.where(Case.id != except_case_id)
        total = self.session.scalar(stmt)
        return Decimal(str(total)) if total is not None else Decimal("0.00")

    def past_returns(self, customer_id: int, since: datetime) -> int:
        return (
            self.session.scalar(
                select(func.count(Case.id)).where(Case.customer_id == customer_id, Case.created_at >= since)
            )
            or 0
        )

    def search(
        self,
        viewer: Principal,
        request: PageRequest,
        *,
        status: str | None = None,
        kind: str | None = None,
        order_number: str | None = None,
        overdue_before: datetime | None = None,
        escalated: bool = False,
    ) -> Page[Case]:
        stmt = scope_cases(select(Case), viewer)
        if status:
            stmt = stmt.where(Case.status == status)
        if kind:
            stmt = stmt.where(Case.kind == kind)
        if order_number:
            stmt = stmt.where(Case.order_number == order_number)
        if overdue_before is not None:
            stmt = stmt.where(Case.status == CaseStatus.UNDER_REVIEW.value, Case.review_due_at <= overdue_before)
        if escalated:
            stmt = stmt.where(
                Case.review_escalated_at.is_not(None), Case.status.in_([s.value for s in AWAITING_DECISION])
            )
        total = self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = self.session.scalars(
            stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(request.size).offset(request.offset)
        )
        items: list[Case] = list(rows)
        return Page(items=items, total=total, request=request)

    def due_reviews(self, now: datetime, limit: int) -> list[int]:
        """Ids of cases whose review check has come, through the partial index on
        review_check_at (escalated and decided cases are not in it)."""
        stmt = (
            select(Case.id)
            .where(
                Case.review_check_at.is_not(None),
                Case.review_check_at <= now,
                Case.status == CaseStatus.UNDER_REVIEW.value,
            )
            .order_by(Case.review_check_at, Case.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def waiting_on(self, merchant_ids: Collection[int], created_before: datetime, limit: int) -> list[int]:
        """Ids of cases of these merchants still under review that were submitted before the
        cutoff, oldest first (through the (status, review_due_at) index's status)."""
        if not merchant_ids:
            return []
        stmt = (
            select(Case.id)
            .where(
                Case.status == CaseStatus.UNDER_REVIEW.value,
                Case.merchant_id.in_(list(merchant_ids)),
                Case.created_at <= created_before,
            )
            .order_by(Case.created_at, Case.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def due_review(self, case_id: int, now: datetime, *, skip_locked: bool) -> Case | None:
        """The case, if its review check is still due; with skip_locked (PostgreSQL) a case
        another worker is sweeping right now is left to that worker."""
        stmt = select(Case).where(
            Case.id == case_id,
            Case.review_check_at.is_not(None),
            Case.review_check_at <= now,
            Case.status == CaseStatus.UNDER_REVIEW.value,
        )
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        case: Case | None = self.session.scalar(stmt)
        return case

    def actions_since(self, order_id: int, action: str, since: datetime) -> int:
        return (
            self.session.scalar(
                select(func.count(OrderAction.id)).where(
                    OrderAction.order_id == order_id,
                    OrderAction.action == action,
                    OrderAction.outcome == "done",
                    OrderAction.at >= since,
                )
            )
            or 0
        )

    # --- merchant tasks --------------------------------------------------------------------------
    def open_merchant_tasks(self, viewer: Principal, limit: int) -> list[MerchantTask]:
        """Tasks nobody handled yet, the most urgent first (the merchant_id, handled_at, due_at index)."""
        stmt = scope_merchant_tasks(select(MerchantTask).where(MerchantTask.handled_at.is_(None)), viewer)
        return list(self.session.scalars(stmt.order_by(MerchantTask.due_at, MerchantTask.id).limit(limit)))

    def merchant_tasks_of_order(self, order_id: int, limit: int = 20) -> list[MerchantTask]:
        stmt = (
            select(MerchantTask)
            .where(MerchantTask.order_id == order_id)
            .order_by(MerchantTask.created_at.desc(), MerchantTask.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def merchant_task(self, task_id: int, viewer: Principal) -> MerchantTask | None:
        stmt = scope_merchant_tasks(select(MerchantTask).where(MerchantTask.id == task_id), viewer)
        task: MerchantTask | None = self.session.scalar(stmt)
        return task

    def numbers_by_id(self, case_ids: Collection[int]) -> dict[int, str]:
        rows = self.session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids)))
        return {row_id: number for row_id, number in rows}

    def opened_per_interval(self, since: datetime, until: datetime, seconds: int) -> dict[int, int]:
        index = interval_index(self.session, Case.created_at, since, seconds)
        stmt = select(index, func.count()).where(Case.created_at >= since, Case.created_at < until).group_by(index)
        return {int(i): n for i, n in self.session.execute(stmt)}
