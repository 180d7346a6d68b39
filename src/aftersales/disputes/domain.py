"""Disputes (平台介入): the platform steps in when buyer and merchant disagree, asks both sides for
evidence, rules within a deadline and enforces the ruling. States, the transition table, who may act,
the deadlines and the money rules. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from aftersales.kit.access import Role
from aftersales.kit.errors import Invalid


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class DisputeStatus(StrEnum):
    ESCALATED = "escalated"  # the buyer asked the platform to step in; the platform accepts it
    AWAITING_EVIDENCE = "awaiting_evidence"  # the named side(s) owe evidence this round
    UNDER_REVIEW = "under_review"  # an arbitrator rules
    RULED = "ruled"  # a ruling without money (rejected): final once the appeal window passes
    ENFORCING = "enforcing"  # money is on its way (escrow refund, awaiting the return, offline proof)
    ENFORCED = "enforced"  # the ruling is carried out; the merchant may still appeal
    APPEALED = "appealed"
    APPEAL_DECIDED = "appeal_decided"
    CLOSED = "closed"  # final: the appeal window passed
    SETTLED = "settled"  # the two sides agreed before the ruling
    WITHDRAWN = "withdrawn"  # the buyer withdrew before the ruling


class DisputeAction(StrEnum):
    ACCEPT = "accept"
    REQUEST_EVIDENCE = "request_evidence"
    SUBMIT_EVIDENCE = "submit_evidence"
    EVIDENCE_CLOSED = "evidence_closed"  # every side named answered, or the round's deadline passed
    RULE = "rule"
    ENFORCE = "enforce"
    ENFORCED = "enforced"
    APPEAL = "appeal"
    DECIDE_APPEAL = "decide_appeal"
    CLOSE = "close"
    SETTLE = "settle"
    WITHDRAW = "withdraw"


class Party(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    PLATFORM = "platform"
    SYSTEM = "system"


class Awaiting(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    BOTH = "both"


class EvidenceKind(StrEnum):
    ORDER_SNAPSHOT = "order_snapshot"
    PAYMENT_RECORD = "payment_record"
    LOGISTICS_PROOF = "logistics_proof"
    CHAT_LOG = "chat_log"
    PHOTO = "photo"
    VIDEO = "video"
    INSPECTION_REPORT = "inspection_report"
    RETURN_SHIPPING_PROOF = "return_shipping_proof"
    REFUND_PROOF = "refund_proof"
    POLICY_AT_PURCHASE = "policy_at_purchase"
    OTHER = "other"
    FORFEIT = "forfeit"  # the system's note that a side stayed silent in a round (loses that point)


SYSTEM_KINDS = frozenset(
    {EvidenceKind.ORDER_SNAPSHOT, EvidenceKind.PAYMENT_RECORD, EvidenceKind.LOGISTICS_PROOF, EvidenceKind.CHAT_LOG}
)
# What the two sides may submit themselves (the system's records and forfeits are the system's own).
PARTY_KINDS = frozenset(set(EvidenceKind) - SYSTEM_KINDS - {EvidenceKind.FORFEIT})


class Liability(StrEnum):
    MERCHANT = "merchant"
    BUYER = "buyer"
    LOGISTICS = "logistics"
    PLATFORM = "platform"
    SHARED = "shared"


class Outcome(StrEnum):
    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RETURN_THEN_REFUND = "return_then_refund"
    COMPENSATION_LATE_SHIPMENT = "compensation_late_shipment"
    COMPENSATION_FRAUD = "compensation_fraud"
    REJECT = "reject"


class AppealResult(StrEnum):
    UPHELD = "upheld"  # the ruling stands
    OVERTURNED = "overturned"  # the merchant wins: its credit effects are reversed, the platform absorbs the money


class Funding(StrEnum):
    """Where a ruling's money comes from, tried in this order."""

    ESCROW = "escrow"  # the order's payment, refunded through the gateway
    DEPOSIT = "deposit"  # the merchant's deposit (保证金)
    OFFLINE = "offline"  # the merchant refunds by itself and uploads proof
    RECEIVABLE = "receivable"  # none of these: the merchant owes the platform
    AWAITING_RETURN = "awaiting_return"  # return then refund: nothing moves before the goods are back


S, A = DisputeStatus, DisputeAction
BEFORE_RULING = frozenset({S.ESCALATED, S.AWAITING_EVIDENCE, S.UNDER_REVIEW})
FINAL = frozenset({S.CLOSED, S.SETTLED, S.WITHDRAWN, S.APPEAL_DECIDED})
APPEALABLE = frozenset({S.RULED, S.ENFORCING, S.ENFORCED})

# Every (status, action) pair spelled out: the table is the rule a reader checks, one line a move.
TRANSITIONS: dict[tuple[DisputeStatus, DisputeAction], DisputeStatus] = {
    (S.ESCALATED, A.ACCEPT): S.AWAITING_EVIDENCE,
    (S.ESCALATED, A.SETTLE): S.SETTLED,
    (S.ESCALATED, A.WITHDRAW): S.WITHDRAWN,
    (S.AWAITING_EVIDENCE, A.SUBMIT_EVIDENCE): S.AWAITING_EVIDENCE,
    (S.AWAITING_EVIDENCE, A.EVIDENCE_CLOSED): S.UNDER_REVIEW,
    (S.AWAITING_EVIDENCE, A.SETTLE): S.SETTLED,
    (S.AWAITING_EVIDENCE, A.WITHDRAW): S.WITHDRAWN,
    (S.UNDER_REVIEW, A.REQUEST_EVIDENCE): S.AWAITING_EVIDENCE,
    (S.UNDER_REVIEW, A.SUBMIT_EVIDENCE): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, A.RULE): S.RULED,
    (S.UNDER_REVIEW, A.SETTLE): S.SETTLED,
    (S.UNDER_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.RULED, A.ENFORCE): S.ENFORCING,
    (S.RULED, A.APPEAL): S.APPEALED,
    (S.RULED, A.CLOSE): S.CLOSED,
    (S.ENFORCING, A.ENFORCED): S.ENFORCED,
    (S.ENFORCING, A.SUBMIT_EVIDENCE): S.ENFORCING,  # the merchant's offline refund proof
    (S.ENFORCING, A.APPEAL): S.APPEALED,
    (S.ENFORCED, A.APPEAL): S.APPEALED,
    (S.ENFORCED, A.CLOSE): S.CLOSED,
    (S.APPEALED, A.DECIDE_APPEAL): S.APPEAL_DECIDED,
}

ARBITERS = frozenset({Role.ARBITRATOR, Role.SUPERVISOR, Role.ADMIN})
# Senior arbitrators: a review past its deadline goes to them.
SENIOR = frozenset({Role.SUPERVISOR, Role.ADMIN})
SELLER = frozenset({Role.MERCHANT})
BUYER = frozenset({Role.CUSTOMER})
# Who may take each action. The system (sweeps, the gateway's confirmation) acts as an administrator.
ACTORS: dict[DisputeAction, frozenset[Role]] = {
    A.ACCEPT: ARBITERS,
    A.REQUEST_EVIDENCE: ARBITERS,
    A.SUBMIT_EVIDENCE: BUYER | SELLER | ARBITERS,
    A.EVIDENCE_CLOSED: ARBITERS,
    A.RULE: ARBITERS,
    A.ENFORCE: frozenset({Role.ADMIN}),
    A.ENFORCED: ARBITERS | SELLER,  # the merchant's offline proof; an arbitrator confirming a return
    A.APPEAL: SELLER,
    A.DECIDE_APPEAL: SENIOR,
    A.CLOSE: frozenset({Role.ADMIN}),
    A.SETTLE: BUYER | SELLER | ARBITERS,
    A.WITHDRAW: BUYER,
}
NEEDS_REASON = frozenset({A.REQUEST_EVIDENCE, A.RULE, A.APPEAL, A.DECIDE_APPEAL, A.SETTLE, A.WITHDRAW})


def next_status(status: DisputeStatus, action: DisputeAction) -> DisputeStatus | None:
    return TRANSITIONS.get((status, action))


def allowed_actions(status: DisputeStatus, role: Role | None = None) -> list[DisputeAction]:
    return [a for (s, a) in TRANSITIONS if s is status and (role is None or role in ACTORS[a])]


def refusal(status: DisputeStatus, action: DisputeAction) -> str:
    possible = ", ".join(a.value for a in allowed_actions(status)) or "nothing (the dispute is closed)"
    return f"A dispute that is {status.value} cannot '{action.value}'. Possible now: {possible}."


def party_of(role: Role) -> Party:
    if role is Role.CUSTOMER:
        return Party.BUYER
    if role in SELLER:
        return Party.MERCHANT
    return Party.PLATFORM


# --- deadlines ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Deadlines:
    """Hours (calendar time) each state may last; every one is a setting (disputes/settings.py)."""

    escalation_window: int = 7 * 24  # after the merchant refused, the buyer may escalate
    accept: int = 24  # the platform accepts an escalated dispute; then a supervisor is paged
    evidence_round: int = 48
    max_rounds: int = 2
    review: int = 48  # DOMAIN.md: the arbitrator rules within 48 h, else a senior arbitrator
    offline_refund: int = 48  # the merchant's offline refund with proof, else the deposit
    appeal_window: int = 30 * 24
    appeal_decision: int = 48


def deadline_of(status: DisputeStatus, since: datetime, d: Deadlines) -> datetime | None:
    """When the current state's deadline passes (None: nothing is due by a date)."""
    hours = {
        S.ESCALATED: d.accept,
        S.AWAITING_EVIDENCE: d.evidence_round,
        S.UNDER_REVIEW: d.review,
        S.RULED: d.appeal_window,
        S.ENFORCED: d.appeal_window,
        S.APPEALED: d.appeal_decision,
    }.get(status)
    return since + timedelta(hours=hours) if hours is not None else None


def owes(awaiting: str, party: Party) -> bool:
    return awaiting == Awaiting.BOTH.value or awaiting == party.value


def still_owed(awaiting: str, answered: set[Party]) -> list[Party]:
    """The sides named this round that have not submitted anything yet."""
    named = [Party.BUYER, Party.MERCHANT] if awaiting == Awaiting.BOTH.value else [Party(awaiting)] if awaiting else []
    return [p for p in named if p not in answered]


def check_round(round_no: int, d: Deadlines) -> None:
    if round_no >= d.max_rounds:
        raise Invalid(
            f"At most {d.max_rounds} evidence rounds; this dispute has had {round_no}. Rule on what is on file."
        )


# --- escalation -----------------------------------------------------------------------------------
CASE_REFUSED = "rejected"
CASE_WAITING = frozenset({"under_review", "awaiting_evidence"})


def escalation_refusal(
    case_status: str, closed_at: datetime | None, review_due_at: datetime | None, now: datetime, d: Deadlines
) -> str | None:
    """Why a case may not be handed to the platform now, or None when it may: refused by the merchant
    within the escalation window, or stalled (still waiting on the merchant past its deadline)."""
    if case_status == CASE_REFUSED:
        if closed_at is not None and now > closed_at + timedelta(hours=d.escalation_window):
            return (
                f"The merchant refused this case more than {d.escalation_window // 24} days ago; "
                "the platform can no longer be asked to step in."
            )
        return None
    if case_status in CASE_WAITING:
        if review_due_at is not None and now >= review_due_at:
            return None
        return "The merchant still has time to answer this case; the platform can step in once it refuses or stalls."
    return f"A case that is {case_status} cannot be handed to the platform."


def escalation_open(
    case_status: str, closed_at: datetime | None, review_due_at: datetime | None, now: datetime, d: Deadlines
) -> bool:
    return escalation_refusal(case_status, closed_at, review_due_at, now, d) is None


# --- rulings and money ----------------------------------------------------------------------------
CENT = Decimal("0.01")
MONEY_OUTCOMES = frozenset(set(Outcome) - {Outcome.REJECT})
COMPENSATIONS = frozenset({Outcome.COMPENSATION_LATE_SHIPMENT, Outcome.COMPENSATION_FRAUD})
LATE_SHIPMENT_SHARE = Decimal("0.10")  # JD: 10 % of the order, ¥5 to ¥200
LATE_SHIPMENT_MIN, LATE_SHIPMENT_MAX = Decimal("5.00"), Decimal("200.00")
FRAUD_MULTIPLE, FRAUD_MIN = Decimal(3), Decimal("500.00")  # CPL art. 55


def award(outcome: Outcome, paid: Decimal, order_total: Decimal, partial: Decimal | None) -> Decimal:
    """What the buyer receives for an outcome: `paid` is what the disputed lines were paid, the
    order total is the late-shipment base, `partial` the arbitrator's amount for a partial refund."""
    if outcome in (Outcome.FULL_REFUND, Outcome.RETURN_THEN_REFUND):
        return paid
    if outcome is Outcome.PARTIAL_REFUND:
        if partial is None or partial <= 0:
            raise Invalid("A partial refund needs an amount above zero.")
        if partial > paid:
            raise Invalid(f"A partial refund is at most what was paid ({paid}); {partial} was entered.")
        return partial.quantize(CENT)
    if outcome is Outcome.COMPENSATION_LATE_SHIPMENT:
        share = (order_total * LATE_SHIPMENT_SHARE).quantize(CENT, ROUND_HALF_UP)
        return min(max(share, LATE_SHIPMENT_MIN), LATE_SHIPMENT_MAX)
    if outcome is Outcome.COMPENSATION_FRAUD:
        return max((paid * FRAUD_MULTIPLE).quantize(CENT), FRAUD_MIN)
    return Decimal("0.00")


def check_ruling(
    liability: Liability, outcome: Outcome, reasons: str, evidence_ids: list[int], known: set[int]
) -> None:
    """A ruling says why and rests on evidence on file; money goes to the buyer only when someone
    other than the buyer is liable."""
    if not reasons.strip():
        raise Invalid("A ruling needs its reasons, shown to both sides.")
    if not evidence_ids:
        raise Invalid("A ruling names the evidence it rests on (at least one item of the chain).")
    unknown = sorted(set(evidence_ids) - known)
    if unknown:
        raise Invalid(f"Evidence {', '.join(map(str, unknown))} is not on this dispute's chain.")
    if liability is Liability.BUYER and outcome is not Outcome.REJECT:
        raise Invalid("When the buyer is liable, the ruling rejects the claim.")
    if outcome is Outcome.COMPENSATION_FRAUD and liability is not Liability.MERCHANT:
        raise Invalid("Fraud compensation is paid only on a merchant found liable.")


def funding(outcome: Outcome, amount: Decimal, refundable: Decimal, deposit: Decimal) -> Funding:
    """Where the money comes from: the order's escrow while it can still refund the amount (a
    refund never exceeds what was paid, so compensation skips it), then the merchant's deposit,
    then the merchant's own offline refund with proof."""
    if outcome is Outcome.RETURN_THEN_REFUND:
        return Funding.AWAITING_RETURN
    if outcome not in COMPENSATIONS and amount <= refundable:
        return Funding.ESCROW
    if amount <= deposit:
        return Funding.DEPOSIT
    return Funding.OFFLINE


def refund_key(dispute_id: int, outcome: Outcome) -> str:
    """The business key of a ruling's money: one payment per dispute and outcome, however often
    the ruling is enforced, retried or confirmed."""
    return f"dispute:{dispute_id}:{outcome.value}"


def dispute_number(on: date, dispute_id: int) -> str:
    return f"DP{on:%y%m%d}{dispute_id:06d}"


def retain_until(closed_at: datetime) -> datetime:
    """E-commerce law art. 31: transaction records are kept at least 3 years after completion."""
    return (
        closed_at.replace(year=closed_at.year + 3)
        if not (closed_at.month == 2 and closed_at.day == 29)
        else (closed_at.replace(year=closed_at.year + 3, day=28))
    )
