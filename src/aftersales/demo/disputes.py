"""Demo disputes: on POP orders delivered a few days ago, a compensation request the merchant refused,
handed to the platform and taken to a different point of the process each (escalated, awaiting
evidence, under review, ruled and paid, rejected, settled, withdrawn, appealed), at moments of the
past so every deadline shown is a real one."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.disputes import service as disputes
from aftersales.disputes.domain import Awaiting, EvidenceKind, Liability, Outcome
from aftersales.disputes.schemas import AcceptIn, EscalateIn, EvidenceIn, RuleIn
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.orders import service as shop

from .cases import People
from .history import History, OrderFacts
from .timing import Past, living_the_past

log = structlog.get_logger(__name__)
STORIES = ("escalated", "awaiting_evidence", "under_review", "enforced", "ruled", "settled", "withdrawn", "appealed")


# What the parties of a dispute write, in the buyer's language (the demo's English buyers read English).
ZH = {
    "claim_case": "快递比承诺晚到了三天，商品外包装也压坏了。",
    "refusal": "物流时效以承运商为准，不予赔付。",
    "claim": "商家拒绝赔付，请平台判定。",
    "withdrawn": "已与商家协商解决。",
    "settled": "买卖双方协商一致，同意和解。",
    "photo": "签收时外箱破损。",
    "proof": "承运商揽收记录。",
    "late": "物流轨迹显示晚于承诺时间送达。",
    "on_time": "物流轨迹显示按承诺时间送达。",
    "appeal": "延误由承运商天气原因造成。",
}
EN = {
    "claim_case": "The parcel came three days later than promised, and the box was crushed.",
    "refusal": "Delivery times are the carrier's; no compensation.",
    "claim": "The merchant refused to compensate; please decide.",
    "withdrawn": "Settled with the merchant.",
    "settled": "Buyer and merchant agreed on a settlement.",
    "photo": "The box was damaged when I signed for it.",
    "proof": "The carrier's pickup record.",
    "late": "The tracking shows delivery later than promised.",
    "on_time": "The tracking shows delivery on time.",
    "appeal": "The delay was caused by the carrier, because of the weather.",
}


def _late_claim(order: OrderFacts, description: str) -> CaseDraft:
    """The demo buyer's claim for late delivery on the order's first line (the merchant refuses it)."""
    return CaseDraft(
        order_number=order.number,
        kind=CaseKind.COMPENSATION,
        reason=CaseReason.LATE_DELIVERY,
        lines=[CaseLineIn(line_no=order.lines[0].line_no, quantity=1)],
        compensation_amount=Decimal("10.00"),
        description=description,
    )


def _person(db: Database, username: str, role: Role, name: str) -> Principal:
    return identity.principal_for_username(db, username) or Principal(0, username, role, name)


def seed_disputes(db: Database, history: History) -> int:
    people = People.of(db)
    judge = _person(db, "arbitrator", Role.ARBITRATOR, "平台仲裁 周静")
    now = history.now
    fits = [
        o
        for o in history.delivered()
        if o.merchant == "pop-mama"
        and o.number not in history.cases
        and o.delivered_at is not None
        and timedelta(days=3) < now - o.delivered_at < timedelta(days=30)
    ]
    merchant_id = shop.merchant_id_for(db, "pop-mama")
    admin = _person(db, "admin", Role.ADMIN, "系统管理员")
    if merchant_id is not None and admin.role is Role.ADMIN:
        # The merchant's deposit (保证金): compensation rulings are paid from it.
        disputes.top_up_deposit(db, merchant_id, Decimal("2000.00"), "CNY", "demo-opening", admin)
    made = 0
    with living_the_past(db) as past:
        for i, (story, order) in enumerate(zip(STORIES, fits, strict=False)):
            try:
                # Each story a few minutes apart: no two cases are opened in the same minute.
                made += _live(db, past, people, judge, order, story, now + timedelta(minutes=7 * i))
            except AppError as exc:  # a story the order does not fit is left out, never half-told
                log.warning("demo.dispute_skipped", order=order.number, story=story, error=exc.message)
        made += _refused_for_the_demo_buyer(db, past, people, history)
    return made


def _refused_for_the_demo_buyer(db: Database, past: Past, people: People, history: History) -> int:
    """李娜's own refused request, still inside the escalation window: her case page offers to ask
    the platform to step in."""
    now = history.now
    mine = [
        o
        for o in history.delivered()
        if o.customer.external_id == "C0001"
        and o.number not in history.cases
        and o.delivered_at is not None
        and timedelta(days=1) < now - o.delivered_at < timedelta(days=15)
    ]
    if not mine:
        return 0
    order = mine[-1]
    draft = _late_claim(order, "比承诺的送达时间晚了两天。")
    try:
        with past.at(now - timedelta(hours=30, minutes=3)):
            case = cases.submit(db, draft, people.customer(order), via="customer")
        if case.status != "under_review":
            return 0
        refuser = people.agent if order.merchant == "selfop" else people.sellers[order.merchant]
        with past.at(now - timedelta(hours=26, minutes=3)):
            cases.act(
                db, case.number, ActionIn(action=CaseAction.REJECT, note="物流时效以承运商为准，不予赔付。"), refuser
            )
    except AppError as exc:
        log.warning("demo.refusal_skipped", order=order.number, error=exc.message)
        return 0
    history.cases[order.number] = case.number
    return 0


def _live(
    db: Database, past: Past, people: People, judge: Principal, order: OrderFacts, story: str, now: datetime
) -> int:
    buyer, seller = people.customer(order), people.sellers[order.merchant]
    start = now - timedelta(hours=60)
    say = EN if order.customer.name.isascii() else ZH  # each party writes in the buyer's language
    draft = _late_claim(order, say["claim_case"])
    with past.at(start):
        case = cases.submit(db, draft, buyer, via="customer")
    if case.status != "under_review":
        return 0
    with past.at(start + timedelta(hours=3)):
        cases.act(db, case.number, ActionIn(action=CaseAction.REJECT, note=say["refusal"]), seller)
    with past.at(start + timedelta(hours=10)):
        number = disputes.escalate(db, EscalateIn(case_number=case.number, claim=say["claim"]), buyer).number
    if story == "escalated":
        return 1
    if story == "withdrawn":
        with past.at(start + timedelta(hours=12)):
            disputes.withdraw(db, number, say["withdrawn"], buyer)
        return 1
    with past.at(now - timedelta(hours=20)):
        disputes.accept(db, number, AcceptIn(awaiting=Awaiting.BOTH), judge)
    if story == "awaiting_evidence":
        return 1
    if story == "settled":
        with past.at(now - timedelta(hours=18)):
            disputes.settle(db, number, say["settled"], seller)
        return 1
    with past.at(now - timedelta(hours=16)):
        disputes.submit_evidence(db, number, EvidenceIn(kind=EvidenceKind.PHOTO, text=say["photo"]), buyer)
    with past.at(now - timedelta(hours=12)):
        disputes.submit_evidence(
            db, number, EvidenceIn(kind=EvidenceKind.RETURN_SHIPPING_PROOF, text=say["proof"]), seller
        )
    if story == "under_review":
        return 1
    dispute = disputes.get_dispute(db, number, judge)
    ids = [e.id for e in dispute.evidence]
    merchant_liable = story in ("enforced", "appealed")
    ruling = RuleIn(
        liability=Liability.MERCHANT if merchant_liable else Liability.BUYER,
        outcome=Outcome.COMPENSATION_LATE_SHIPMENT if merchant_liable else Outcome.REJECT,
        reasons=say["late"] if merchant_liable else say["on_time"],
        evidence_ids=ids,
    )
    with past.at(now - timedelta(hours=8)):
        disputes.rule(db, number, ruling, judge)
    if story == "appealed":
        with past.at(now - timedelta(hours=2)):
            disputes.appeal(db, number, say["appeal"], seller)
    return 1
