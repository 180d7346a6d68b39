"""Demo after-sales cases in every stage of their lifecycle (docs/cases.md), each opened by the
order's customer after delivery, about goods that order holds, and moved on by the people whose
step it is, at believable moments; created through the cases service so the policies apply."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason, CaseStatus
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn, CaseOut
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.orders import service as shop

from .catalogue import product_in_english
from .history import History, OrderFacts
from .timing import Past, living_the_past

A, K, R, S = CaseAction, CaseKind, CaseReason, CaseStatus
# A step that triggers a refund may end with the gateway's answer: declined, or not yet given.
DECLINED, PENDING = "+declined", "+pending"

APPLIANCES = {"electronics", "home_appliances"}
# A defective home appliance is replaced, not refunded (rules: appliance_quality_exchange_30), so a
# return and refund for a defect is told of electronics.
DEVICES = {"electronics"}
RETURNABLE = {"electronics", "home_appliances", "apparel", "books", "baby_maternal"}
ANY = RETURNABLE | {"fresh_food"}


@dataclass(frozen=True, slots=True)
class Plan:
    """One story: what is claimed on which kind of goods, and the steps taken so far."""

    kind: CaseKind
    reason: CaseReason
    categories: frozenset[str]
    steps: tuple[str, ...]
    recent: bool  # still in progress: its last step happened lately


def _plan(kind: CaseKind, reason: CaseReason, categories: set[str], *steps: str, recent: bool = True) -> Plan:
    return Plan(kind, reason, frozenset(categories), steps, recent)


RETURN_LEG = (A.APPROVE, A.SHIP_BACK, A.RECEIVE)
# Every stage a case can be in, at least once; the finished ones more often, as in a real shop.
PLANS: list[Plan] = [
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE),  # under review
    _plan(K.RETURN_REFUND, R.DEFECT, DEVICES, A.REQUEST_EVIDENCE),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, A.APPROVE),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, A.APPROVE, A.BOOK_PICKUP),
    _plan(K.RETURN_REFUND, R.DEFECT, DEVICES, A.APPROVE, A.SHIP_BACK),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, *RETURN_LEG),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, *RETURN_LEG, A.INSPECT_FAIL),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, *RETURN_LEG, A.INSPECT_PASS + PENDING),
    _plan(K.RETURN_REFUND, R.DEFECT, DEVICES, *RETURN_LEG, A.INSPECT_PASS, recent=False),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, *RETURN_LEG, A.INSPECT_PASS, recent=False),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, *RETURN_LEG, A.INSPECT_FAIL, A.RETURN_GOODS, recent=False),
    _plan(K.RETURN_REFUND, R.CHANGED_MIND, RETURNABLE, A.CANCEL, recent=False),
    _plan(K.EXCHANGE, R.WRONG_ITEM, {"apparel"}, *RETURN_LEG, A.INSPECT_PASS),
    _plan(K.EXCHANGE, R.WRONG_ITEM, {"apparel"}, *RETURN_LEG, A.INSPECT_PASS, A.SHIP_REPLACEMENT),
    _plan(
        K.EXCHANGE,
        R.WRONG_ITEM,
        {"apparel"},
        *RETURN_LEG,
        A.INSPECT_PASS,
        A.SHIP_REPLACEMENT,
        A.CONFIRM_RECEIPT,
        recent=False,
    ),
    _plan(K.REPAIR, R.DEFECT, APPLIANCES, *RETURN_LEG, A.INSPECT_PASS),
    _plan(K.REPAIR, R.DEFECT, APPLIANCES, *RETURN_LEG, A.INSPECT_PASS, A.FINISH_REPAIR),
    _plan(
        K.REPAIR, R.DEFECT, APPLIANCES, *RETURN_LEG, A.INSPECT_PASS, A.FINISH_REPAIR, A.CONFIRM_RECEIPT, recent=False
    ),
    _plan(K.REFUND_ONLY, R.MISSING_ITEM, ANY, A.APPROVE, recent=False),
    _plan(K.REFUND_ONLY, R.DAMAGED, {"fresh_food"}, A.APPROVE, recent=False),
    _plan(K.REFUND_ONLY, R.DAMAGED, {"fresh_food"}, A.APPROVE + PENDING),
    _plan(K.REFUND_ONLY, R.MISSING_ITEM, ANY, A.APPROVE + DECLINED),
    _plan(K.REFUND_ONLY, R.DAMAGED, {"fresh_food"}, A.REJECT, recent=False),
    # Compensation is paid back as money: there is no coupon wallet to give a coupon from.
    _plan(K.COMPENSATION, R.LATE_DELIVERY, ANY, A.APPROVE, recent=False),
    _plan(K.COMPENSATION, R.LATE_DELIVERY, ANY),
    _plan(K.INVOICE, R.INVOICE_NEEDED, ANY, A.APPROVE),
    _plan(K.INVOICE, R.INVOICE_NEEDED, ANY, A.APPROVE, A.ISSUE_INVOICE, recent=False),
]
# How long after the previous step each one is usually taken (hours, low and high).
GAPS: dict[str, tuple[float, float]] = {
    A.APPROVE: (1, 20),
    A.REJECT: (2, 24),
    A.REQUEST_EVIDENCE: (1, 12),
    A.CANCEL: (2, 30),
    A.BOOK_PICKUP: (1, 10),
    A.SHIP_BACK: (6, 48),
    A.RECEIVE: (24, 72),
    A.INSPECT_PASS: (2, 24),
    A.INSPECT_FAIL: (2, 24),
    A.RETURN_GOODS: (12, 36),
    A.SHIP_REPLACEMENT: (12, 48),
    A.FINISH_REPAIR: (72, 168),
    A.CONFIRM_RECEIPT: (24, 72),
    A.ISSUE_INVOICE: (12, 48),
}
SELLER_STEPS = {A.RECEIVE, A.INSPECT_PASS, A.INSPECT_FAIL, A.SHIP_REPLACEMENT, A.RETURN_GOODS, A.FINISH_REPAIR}
CUSTOMER_STEPS = {A.SHIP_BACK, A.BOOK_PICKUP, A.CANCEL, A.CONFIRM_RECEIPT}
NOTES: dict[str, str] = {
    A.REJECT: "照片显示商品完好，不符合仅退款条件，如有其他问题请补充说明。",
    A.REQUEST_EVIDENCE: "请补充故障视频或照片，方便我们判断问题。",
    A.INSPECT_FAIL: "退回商品已使用且缺少配件，不符合无理由退货条件。",
    A.CANCEL: "不需要退了。",
}
# The same notes to an English-speaking customer: staff write to a customer in the customer's language.
NOTES_EN: dict[str, str] = {
    A.REJECT: (
        "The photos show the item intact, so a refund without return does not apply; "
        "tell us if something else is wrong."
    ),
    A.REQUEST_EVIDENCE: "Please add a video or photos of the fault so we can assess it.",
    A.INSPECT_FAIL: "The returned item has been used and parts are missing, so the no-reason return does not apply.",
    A.CANCEL: "I no longer need the return.",
}


def _description(plan: Plan, product: str, english: bool) -> str:
    zh = {
        R.CHANGED_MIND: f"{product}不太合适，包装完好，申请七天无理由退货。",
        R.DEFECT: f"{product}用了没几天就出现故障，无法正常使用。",
        R.WRONG_ITEM: f"收到的{product}尺码和颜色与下单的不一致，想换成下单的那款。",
        R.MISSING_ITEM: f"包裹里没有{product}，其他东西都在。",
        R.DAMAGED: f"{product}送到时已经变质，外包装破损，冰袋也化了。",
        R.LATE_DELIVERY: "比承诺的送达时间晚了好几天，耽误了使用。",
        R.INVOICE_NEEDED: "麻烦为这笔订单开具电子普通发票，抬头为个人。",
    }
    product_en = product_in_english(product)
    en = {
        R.CHANGED_MIND: f"The {product_en} is not what I hoped for; still in its box, returning it within 7 days.",
        R.DEFECT: f"The {product_en} stopped working after a few days.",
        R.WRONG_ITEM: f"The {product_en} came in the wrong size and colour; please exchange it for the one I ordered.",
        R.MISSING_ITEM: f"The {product_en} was not in the parcel; everything else was.",
        R.DAMAGED: f"The {product_en} arrived spoiled, the box crushed and the ice packs melted.",
        R.LATE_DELIVERY: "The parcel came days later than promised.",
        R.INVOICE_NEEDED: "Please issue an electronic invoice for this order, made out to me personally.",
    }
    return (en if english else zh)[plan.reason]


@dataclass(slots=True)
class People:
    db: Database
    agent: Principal
    sellers: dict[str, Principal]

    @classmethod
    def of(cls, db: Database) -> People:
        def staff(username: str, role: Role, name: str, merchant: str | None = None) -> Principal:
            found = identity.principal_for_username(db, username)
            merchant_id = shop.merchant_id_for(db, merchant) if merchant else None
            return found or Principal(0, username, role, name, merchant_id=merchant_id)

        return cls(
            db,
            staff("agent1", Role.AGENT_T1, "张敏 (一线)"),
            {
                "selfop": staff("warehouse", Role.WAREHOUSE, "自营仓 华东", "selfop"),
                "pop-mama": staff("merchant", Role.MERCHANT, "贝贝母婴 客服", "pop-mama"),
                "pop-style": staff("merchant2", Role.MERCHANT, "Urban Style 客服", "pop-style"),
            },
        )

    def customer(self, order: OrderFacts) -> Principal:
        external = order.customer.external_id
        if external == "C0001" and (user := identity.principal_for_username(self.db, "customer")) is not None:
            return user
        if external == "C0002" and (user := identity.principal_for_username(self.db, "emma")) is not None:
            return user
        customer_id = shop.customer_id_for(self.db, external)
        return Principal(0, f"customer-{external}", Role.CUSTOMER, order.customer.name, customer_id=customer_id)

    def for_step(self, action: str, order: OrderFacts) -> Principal:
        if action in SELLER_STEPS:
            return self.sellers[order.merchant]
        if action in CUSTOMER_STEPS:
            return self.customer(order)
        return self.agent


def seed_cases(db: Database, history: History, count: int, rng: random.Random) -> int:
    """Every plan once, then more of them, each on a delivered order it fits."""
    people = People.of(db)
    plans = PLANS + [rng.choice(PLANS) for _ in range(max(count - len(PLANS), 0))]
    delivered = history.delivered()
    dues: list[tuple[datetime, str]] = []
    with living_the_past(db) as past:
        for plan in plans:
            order = _pick_order(plan, delivered, history, rng)
            case = _live(past, people, plan, order, history.now, rng) if order is not None else None
            if order is not None and case is not None:
                history.cases[order.number] = case.number
                history.case_status[case.number] = case.status
                history.case_moved_at[case.number] = past.moment
                if case.status in (S.UNDER_REVIEW, S.AWAITING_EVIDENCE) and case.review_due_at is not None:
                    dues.append((clock.ensure_utc(case.review_due_at), case.number))
        # Reviews nobody decided in time went to the supervisors minutes after their deadline.
        for due, _number in sorted(d for d in dues if d[0] < history.now - timedelta(minutes=5)):
            with past.at(due + timedelta(minutes=5)):
                cases.sweep_due_reviews(db)
        _supervisors_decide(past, people, dues, history, rng)
    return len(history.cases)


def _supervisors_decide(
    past: Past, people: People, dues: list[tuple[datetime, str]], history: History, rng: random.Random
) -> None:
    """A supervisor takes up an escalated review within hours; only the last day's escalations
    still wait on their list (a review left untouched for days would tell a false story)."""
    supervisor = identity.principal_for_username(people.db, "supervisor") or people.agent
    for due, number in sorted(dues):
        escalated_at = due + timedelta(minutes=5)
        decided_at = escalated_at + timedelta(hours=rng.uniform(1, 6))
        if escalated_at > history.now - timedelta(days=1) or decided_at >= history.now:
            continue
        case = cases.get_case(people.db, number, supervisor)
        if not case.escalated or A.APPROVE not in case.next_actions:
            continue
        try:
            with past.at(decided_at):
                cases.act(people.db, number, ActionIn(action=A.APPROVE, version=case.version), supervisor)
        except AppError:
            continue
        history.case_status[number] = cases.get_case(people.db, number, supervisor).status
        history.case_moved_at[number] = decided_at


DEMO_ACCOUNTS = frozenset({"C0001", "C0002"})


# The compensation left under review is claimed 26-40 h ago on goods delivered before that, so
# its 24 h review is overdue whatever the hour or weekday the demo is seeded.
OVERDUE_CLAIM_AFTER = timedelta(hours=44)


def _pick_order(plan: Plan, delivered: list[OrderFacts], history: History, rng: random.Random) -> OrderFacts | None:
    # Stories still in progress happen on goods delivered lately; finished ones on older orders.
    fresh = timedelta(days=8)
    # The demo's own accounts (李娜, emma) keep to one case each: with fewer than three returns in
    # 90 days a small return is approved at once, which is what their first visit should show.
    own = {o.customer.external_id for o in delivered if o.number in history.cases} & DEMO_ACCOUNTS
    fits = [
        o
        for o in delivered
        if o.number not in history.cases
        and o.customer.external_id not in own
        and o.lines[0].category in plan.categories
        and o.delivered_at is not None
        and ((history.now - o.delivered_at < fresh) == plan.recent)
        and history.now - o.delivered_at > timedelta(hours=12)
        and (plan.steps or plan.kind is not K.COMPENSATION or history.now - o.delivered_at > OVERDUE_CLAIM_AFTER)
    ]
    return rng.choice(fits) if fits else None


def _moments(plan: Plan, delivered_at: datetime, now: datetime, rng: random.Random) -> list[datetime]:
    """When the case was opened and each step taken; a story still going on ends lately, so a
    busy week is squeezed in, never pushed into the future."""
    # Fresh food is claimed within its 2 days (rules: fresh_food_quality_2_days); the rest within days.
    opened = delivered_at + timedelta(
        hours=rng.uniform(2, 30) if plan.categories == {"fresh_food"} else rng.uniform(3, 60)
    )
    if not plan.steps:
        # Still under review: asked lately. A compensation (reviewed within 24 h) just past its
        # deadline, so the supervisors' list shows it; nothing waits there for days.
        if plan.kind is K.COMPENSATION:
            opened = now - timedelta(hours=rng.uniform(26, 40))  # its goods came days before (_pick_order)
        else:
            opened = max(opened, now - timedelta(hours=rng.uniform(4, 40)))
    gaps = [timedelta(hours=rng.uniform(*GAPS[step.split("+")[0]])) for step in plan.steps]
    latest = now - timedelta(minutes=rng.uniform(20, 240))
    total = sum(gaps, timedelta())
    if opened > latest:
        opened = delivered_at + (latest - delivered_at) / 3
    if opened + total > latest:
        share = (latest - opened) / total if total else 0
        gaps = [gap * share for gap in gaps]
    moments = [opened]
    for gap in gaps:
        moments.append(moments[-1] + gap)
    return moments


def _live(
    past: Past, people: People, plan: Plan, order: OrderFacts, now: datetime, rng: random.Random
) -> CaseOut | None:
    assert order.delivered_at is not None
    moments = _moments(plan, order.delivered_at, now, rng)
    line = order.lines[0]
    english = order.customer.name.isascii()
    draft = CaseDraft(
        order_number=order.number,
        kind=plan.kind,
        reason=plan.reason,
        lines=[] if plan.kind in (K.INVOICE, K.COMPENSATION) else [CaseLineIn(line_no=line.line_no, quantity=1)],
        description=_description(plan, line.product, english),
        return_method=rng.choice(["pickup", "mail_back"])
        if plan.kind in (K.RETURN_REFUND, K.EXCHANGE, K.REPAIR)
        else "",
        compensation_amount=Decimal("20.00") if plan.kind is K.COMPENSATION else None,
    )
    # A low-risk case is approved as it is submitted: the refund that follows ends as its approval would.
    first = plan.steps[0].partition("+") if plan.steps else ("", "", "")
    approved_at_once = first[2] if first[0] == A.APPROVE else ""
    past.decline_next = approved_at_once == "declined"
    try:
        with past.at(moments[0], settle_refunds=approved_at_once != "pending"):
            submitted = cases.submit(people.db, draft, people.customer(order), via="web")
    except AppError:
        return None  # the policies refused it, as they would a real customer
    case = cases.get_case(people.db, submitted.number, people.agent)  # staff see every next step
    for step, moment in zip(plan.steps, moments[1:], strict=True):
        action, _, outcome = step.partition("+")
        if action not in case.next_actions:
            if action == A.APPROVE:
                continue  # a low-risk case was approved as it was submitted
            break
        data = ActionIn(
            action=CaseAction(action),
            note=(NOTES_EN if english else NOTES).get(action, ""),
            carrier="SF",
            tracking_number=f"SF{rng.randrange(10**10):010d}",
            pickup_at=moment + timedelta(days=1) if action == A.BOOK_PICKUP else None,
        )
        past.decline_next = outcome == "declined"
        try:
            with past.at(moment, settle_refunds=outcome != "pending"):
                cases.act(people.db, case.number, data, people.for_step(action, order))
        except AppError:
            break
        case = cases.get_case(people.db, case.number, people.agent)
    return case
