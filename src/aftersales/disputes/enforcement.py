"""Carrying out a ruling: the money moves once (the business key is per dispute and outcome), from
the order's escrow through the refunds path, else the merchant's deposit, else the merchant's own
offline refund with proof, else a receivable the merchant owes. A won appeal gives the merchant its
deposit back: the platform absorbs the money and the buyer is never charged back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from aftersales.disputes import domain, flow
from aftersales.disputes.domain import DisputeAction, DisputeStatus, Funding, Outcome
from aftersales.disputes.models import DepositEntry, Dispute, MerchantDeposit
from aftersales.disputes.repository import DisputesRepository
from aftersales.disputes.settings import deadlines
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM
from aftersales.kit.errors import Conflict
from aftersales.refunds import service as refunds

ZERO = Decimal("0.00")


def deposit_of(session: Session, merchant_id: int, currency: str, *, lock: bool = False) -> MerchantDeposit:
    repo = DisputesRepository(session)
    found = repo.deposit(merchant_id, lock=lock)
    if found is None:
        found = MerchantDeposit(
            merchant_id=merchant_id, currency=currency, balance=ZERO, receivable=ZERO, updated_at=clock.now()
        )
        session.add(found)
        session.flush()
    return found


def book(
    session: Session,
    merchant_id: int,
    currency: str,
    key: str,
    kind: str,
    amount: Decimal,
    note: str,
    dispute_id: int | None = None,
) -> bool:
    """One entry per key (a repeat changes nothing); returns whether it was booked now."""
    repo = DisputesRepository(session)
    if repo.entry(key) is not None:
        return False
    deposit = deposit_of(session, merchant_id, currency, lock=True)
    if kind == "receivable":
        deposit.receivable += amount
    else:
        deposit.balance += amount
    deposit.updated_at = clock.now()
    session.add(
        DepositEntry(
            merchant_id=merchant_id, key=key, kind=kind, amount=amount, dispute_id=dispute_id, note=note, at=clock.now()
        )
    )
    session.flush()
    return True


def _key(dispute: Dispute, what: str) -> str:
    return f"{domain.refund_key(dispute.id, Outcome(dispute.outcome))}:{what}"


def enforce_in(session: Session, dispute: Dispute) -> None:
    """Right after a ruling with money: choose where it comes from and start moving it."""
    outcome = Outcome(dispute.outcome)
    if outcome is Outcome.REJECT:
        return
    flow.move(session, dispute, DisputeAction.ENFORCE, SYSTEM, "note.dispute_enforcing")
    fund_in(session, dispute, outcome)


def fund_in(session: Session, dispute: Dispute, outcome: Outcome, *, skip_escrow: bool = False) -> None:
    amount = dispute.award or ZERO
    refundable = ZERO if skip_escrow else refunds.refundable_amount(session, dispute.order_id)
    balance = deposit_of(session, dispute.merchant_id, dispute.currency).balance
    source = domain.funding(outcome, amount, refundable, balance)
    dispute.funding = source.value
    if source is Funding.AWAITING_RETURN:
        flow.schedule(dispute, None)  # the goods come back first; the merchant or an arbitrator confirms
        dispute.deadline_at = dispute.check_at = None
        return
    if source is Funding.ESCROW:
        # Keyword arguments written out on purpose: look-alike calls elsewhere pass other things.
        refund = refunds.request_refund(
            session,
            order_id=dispute.order_id,
            order_number=dispute.order_number,
            case_id=dispute.case_id,
            amount=amount,
            currency=dispute.currency,
            reason=f"note.refund_for_dispute:{dispute.number}",
            business_key=domain.refund_key(dispute.id, Outcome(dispute.outcome)),
        )
        dispute.refund_id = refund.id
        dispute.deadline_at = dispute.check_at = None  # the gateway's confirmation moves it on
        if refund.status == "succeeded":  # asked again after the gateway already paid it
            finish_in(session, dispute, "note.dispute_paid_escrow")
        return
    if source is Funding.DEPOSIT:
        take_deposit_in(session, dispute, amount)
        return
    # Offline: the merchant refunds by itself and uploads the proof within the deadline.
    flow.schedule(dispute, clock.now() + timedelta(hours=deadlines().offline_refund))
    flow.record(
        session, dispute, "offline_refund_due", SYSTEM, dispute.status, dispute.status, "note.dispute_offline_due"
    )


def _debit_deposit(session: Session, dispute: Dispute, amount: Decimal) -> None:
    """The ruling's one debit of the merchant's deposit (one key per dispute)."""
    book(
        session,
        dispute.merchant_id,
        dispute.currency,
        _key(dispute, "deposit"),
        "ruling",
        -amount,
        f"dispute {dispute.number}",
        dispute.id,
    )


def take_deposit_in(session: Session, dispute: Dispute, amount: Decimal) -> None:
    _debit_deposit(session, dispute, amount)
    dispute.funding = Funding.DEPOSIT.value
    finish_in(session, dispute, "note.dispute_paid_deposit")


def receivable_in(session: Session, dispute: Dispute, amount: Decimal) -> None:
    """The deposit falls short: what it holds is taken and the rest is owed by the merchant; the
    platform pays the buyer meanwhile."""
    balance = deposit_of(session, dispute.merchant_id, dispute.currency).balance
    taken = min(max(balance, ZERO), amount)
    if taken > 0:
        _debit_deposit(session, dispute, taken)
    book(
        session,
        dispute.merchant_id,
        dispute.currency,
        _key(dispute, "receivable"),
        "receivable",
        amount - taken,
        f"dispute {dispute.number}",
        dispute.id,
    )
    dispute.funding = Funding.RECEIVABLE.value
    finish_in(session, dispute, "note.dispute_paid_receivable")


def finish_in(session: Session, dispute: Dispute, reason: str) -> None:
    if dispute.status == DisputeStatus.ENFORCING.value:
        flow.move(session, dispute, DisputeAction.ENFORCED, SYSTEM, reason, {"funding": dispute.funding})


def refund_settled_in(session: Session, dispute: Dispute, succeeded: bool) -> None:
    """The gateway's word on the ruling's refund: paid, or the deposit (then offline) takes over."""
    if dispute.status != DisputeStatus.ENFORCING.value or dispute.funding != Funding.ESCROW.value:
        return
    if succeeded:
        finish_in(session, dispute, "note.dispute_paid_escrow")
        return
    fund_in(session, dispute, Outcome(dispute.outcome), skip_escrow=True)


def offline_overdue_in(session: Session, dispute: Dispute) -> None:
    """The merchant's offline refund did not come with proof in time: the deposit pays, or a receivable."""
    amount = dispute.award or ZERO
    balance = deposit_of(session, dispute.merchant_id, dispute.currency).balance
    if amount <= balance:
        take_deposit_in(session, dispute, amount)
    else:
        receivable_in(session, dispute, amount)


def reverse_in(session: Session, dispute: Dispute) -> None:
    """An overturned ruling: whatever the merchant's deposit paid comes back and its receivable is
    cancelled; the buyer keeps what was paid (the platform absorbs it)."""
    repo = DisputesRepository(session)
    for what, kind in (("deposit", "ruling"), ("receivable", "receivable")):
        entry = repo.entry(_key(dispute, what))
        if entry is not None and entry.amount != 0:
            book(
                session,
                dispute.merchant_id,
                dispute.currency,
                _key(dispute, f"{what}:reversed"),
                kind,
                -entry.amount,
                f"appeal won, dispute {dispute.number}",
                dispute.id,
            )


def check_open(dispute: Dispute) -> None:
    if dispute.status in {s.value for s in domain.FINAL}:
        raise Conflict(f"Dispute {dispute.number} is {dispute.status}.")
