"""After-sales case kinds, statuses, actions and the transition table of each kind. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from aftersales.kit.access import Role
from aftersales.kit.errors import Conflict, Invalid
from aftersales.kit.money import allocate, shown
from aftersales.kit.vocabulary import CaseKind as CaseKind
from aftersales.kit.vocabulary import CaseReason as CaseReason

# Evidence links: a web address, or a photo uploaded here (cases/photos.py names them). Nothing
# else, so no javascript:/data: link and no path into our own pages reaches a page as a link.
_WEB_ADDRESS = re.compile(r"https?://[^\s/?#@]+(?:[/?#][^\s]*)?", re.IGNORECASE)
_UPLOADED_PHOTO = re.compile(r"/cases/[A-Za-z0-9][A-Za-z0-9_-]{0,23}/photos/[0-9a-f]{32}\.(?:jpg|png|webp)")
EVIDENCE_URI_RULE = "an evidence uri must be an http:// or https:// address, or a photo uploaded to the case"


def evidence_uri_allowed(uri: str) -> bool:
    """Whether an evidence uri may be stored and shown as a link (the empty uri: no link at all)."""
    return uri == "" or bool(_WEB_ADDRESS.fullmatch(uri) or _UPLOADED_PHOTO.fullmatch(uri))


class CaseStatus(StrEnum):
    UNDER_REVIEW = "under_review"
    AWAITING_EVIDENCE = "awaiting_evidence"
    APPROVED = "approved"  # invoice and coupon compensation: approved, not yet issued
    AWAITING_RETURN = "awaiting_return"  # approved; the goods are to come back
    RETURN_IN_TRANSIT = "return_in_transit"
    RECEIVED = "received"
    INSPECTION_FAILED = "inspection_failed"  # the goods are to go back to the customer
    RESOLVING = "resolving"  # exchange: inspection passed, the replacement is being prepared
    REPAIRING = "repairing"
    REPLACEMENT_SHIPPED = "replacement_shipped"  # exchange or repaired item on its way back
    REFUNDING = "refunding"
    REFUND_FAILED = "refund_failed"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    APPEALED = "appealed"  # handed to the platform (the dispute flow)


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class CaseAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_EVIDENCE = "request_evidence"
    ADD_EVIDENCE = "add_evidence"
    CANCEL = "cancel"
    BOOK_PICKUP = "book_pickup"
    SHIP_BACK = "ship_back"
    RECEIVE = "receive"
    INSPECT_PASS = "inspect_pass"  # noqa: S105 - an inspection verdict, not a password
    INSPECT_FAIL = "inspect_fail"
    REFUND_SETTLED = "refund_settled"
    REFUND_FAILED = "refund_failed"
    RETRY_REFUND = "retry_refund"
    SHIP_REPLACEMENT = "ship_replacement"
    RETURN_GOODS = "return_goods"  # the merchant sends goods that failed inspection back
    FINISH_REPAIR = "finish_repair"
    CONFIRM_RECEIPT = "confirm_receipt"
    ISSUE_INVOICE = "issue_invoice"
    OFFER_COUPON = "offer_coupon"  # kept to read old timelines; no kind offers it (no coupon wallet)
    APPEAL = "appeal"


S, A, K = CaseStatus, CaseAction, CaseKind
RETURN_KINDS = frozenset({K.RETURN_REFUND, K.EXCHANGE, K.REPAIR})
MONEY_KINDS = frozenset({K.REFUND_ONLY, K.PRICE_PROTECTION, K.COMPENSATION})
FINAL = frozenset({S.COMPLETED, S.REJECTED, S.CANCELLED, S.APPEALED})
# Quantity taken out of what can still be claimed on a line while a case is open or done.
CLAIMING = frozenset(set(S) - {S.REJECTED, S.CANCELLED})
# A person still has to decide: the statuses an escalated review stays on the supervisors' list in.
AWAITING_DECISION = frozenset({S.UNDER_REVIEW, S.AWAITING_EVIDENCE})
# The return is approved and the goods are still to reach the merchant: the customer needs its address.
GOODS_COMING_BACK = frozenset({S.AWAITING_RETURN, S.RETURN_IN_TRANSIT})

# The tables below spell out every (status, action) pair, although their rows look alike: the tables
# are the rules a reader checks, one line a move.
_REVIEW: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.UNDER_REVIEW, A.REJECT): S.REJECTED,
    (S.UNDER_REVIEW, A.REQUEST_EVIDENCE): S.AWAITING_EVIDENCE,
    (S.UNDER_REVIEW, A.ADD_EVIDENCE): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, A.CANCEL): S.CANCELLED,
    (S.AWAITING_EVIDENCE, A.ADD_EVIDENCE): S.UNDER_REVIEW,
    (S.AWAITING_EVIDENCE, A.REJECT): S.REJECTED,
    (S.AWAITING_EVIDENCE, A.CANCEL): S.CANCELLED,
}
# Handing a case to the platform (the disputes context escalates it; the case's own act refuses it,
# so no case is ever "appealed" without a dispute that rules on it): after the merchant refused, or
# while the merchant has let its deadline pass.
PLATFORM_STEPS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.REJECTED, A.APPEAL): S.APPEALED,
    (S.UNDER_REVIEW, A.APPEAL): S.APPEALED,
    (S.AWAITING_EVIDENCE, A.APPEAL): S.APPEALED,
}
# Once the money is on its way nothing is left to decide, so no evidence is asked or taken (a failed
# refund is retried by staff; a dispute has its own evidence chain).
_MONEY: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.UNDER_REVIEW, A.APPROVE): S.REFUNDING,
    (S.REFUNDING, A.REFUND_SETTLED): S.COMPLETED,
    (S.REFUNDING, A.REFUND_FAILED): S.REFUND_FAILED,
    (S.REFUND_FAILED, A.RETRY_REFUND): S.REFUNDING,
}
_RETURN_LEG: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.UNDER_REVIEW, A.APPROVE): S.AWAITING_RETURN,
    (S.AWAITING_RETURN, A.BOOK_PICKUP): S.AWAITING_RETURN,
    (S.AWAITING_RETURN, A.SHIP_BACK): S.RETURN_IN_TRANSIT,
    (S.AWAITING_RETURN, A.CANCEL): S.CANCELLED,
    (S.AWAITING_RETURN, A.ADD_EVIDENCE): S.AWAITING_RETURN,
    (S.AWAITING_RETURN, A.RECEIVE): S.RECEIVED,  # handed over at the counter, no tracking
    (S.RETURN_IN_TRANSIT, A.RECEIVE): S.RECEIVED,
    (S.RETURN_IN_TRANSIT, A.ADD_EVIDENCE): S.RETURN_IN_TRANSIT,
    (S.RECEIVED, A.INSPECT_FAIL): S.INSPECTION_FAILED,
    (S.RECEIVED, A.ADD_EVIDENCE): S.RECEIVED,
    # The customer's goods are not kept: the case closes once they are on their way back.
    (S.INSPECTION_FAILED, A.RETURN_GOODS): S.REJECTED,
    (S.INSPECTION_FAILED, A.ADD_EVIDENCE): S.INSPECTION_FAILED,
}
TRANSITIONS: dict[CaseKind, dict[tuple[CaseStatus, CaseAction], CaseStatus]] = {
    K.REFUND_ONLY: {**_REVIEW, **_MONEY},
    K.PRICE_PROTECTION: {**_REVIEW, **_MONEY},
    # No coupon step: there is no coupon wallet yet, so nothing may record that one was given.
    K.COMPENSATION: {**_REVIEW, **_MONEY},
    K.RETURN_REFUND: {
        **_REVIEW,
        **_RETURN_LEG,
        **{k: v for k, v in _MONEY.items() if k[0] is not S.UNDER_REVIEW},
        (S.RECEIVED, A.INSPECT_PASS): S.REFUNDING,
    },
    K.EXCHANGE: {
        **_REVIEW,
        **_RETURN_LEG,
        (S.RECEIVED, A.INSPECT_PASS): S.RESOLVING,
        (S.RESOLVING, A.SHIP_REPLACEMENT): S.REPLACEMENT_SHIPPED,
        (S.REPLACEMENT_SHIPPED, A.CONFIRM_RECEIPT): S.COMPLETED,
    },
    K.REPAIR: {
        **_REVIEW,
        **_RETURN_LEG,
        (S.RECEIVED, A.INSPECT_PASS): S.REPAIRING,
        (S.REPAIRING, A.ADD_EVIDENCE): S.REPAIRING,
        (S.REPAIRING, A.FINISH_REPAIR): S.REPLACEMENT_SHIPPED,
        (S.REPLACEMENT_SHIPPED, A.CONFIRM_RECEIPT): S.COMPLETED,
    },
    K.INVOICE: {
        **_REVIEW,
        (S.UNDER_REVIEW, A.APPROVE): S.APPROVED,
        (S.APPROVED, A.ISSUE_INVOICE): S.COMPLETED,
    },
}

_STAFF = frozenset({Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN})
_SELLER = frozenset({Role.MERCHANT, Role.WAREHOUSE})
# Who may take each action. The system (refund confirmations) acts as an administrator.
ACTORS: dict[CaseAction, frozenset[Role]] = {
    A.APPROVE: _STAFF | {Role.MERCHANT},
    A.REJECT: _STAFF | {Role.MERCHANT},
    A.REQUEST_EVIDENCE: _STAFF | {Role.MERCHANT},
    A.ADD_EVIDENCE: _STAFF | _SELLER | {Role.CUSTOMER},
    A.CANCEL: _STAFF | {Role.CUSTOMER},
    A.BOOK_PICKUP: _STAFF | {Role.CUSTOMER},
    A.SHIP_BACK: _STAFF | {Role.CUSTOMER},
    A.RECEIVE: _STAFF | _SELLER,
    A.INSPECT_PASS: _STAFF | _SELLER,
    A.INSPECT_FAIL: _STAFF | _SELLER,
    A.REFUND_SETTLED: frozenset({Role.ADMIN}),
    A.REFUND_FAILED: frozenset({Role.ADMIN}),
    A.RETRY_REFUND: _STAFF,
    A.SHIP_REPLACEMENT: _STAFF | _SELLER,
    A.RETURN_GOODS: _STAFF | _SELLER,
    A.FINISH_REPAIR: _STAFF | _SELLER,
    A.CONFIRM_RECEIPT: _STAFF | {Role.CUSTOMER},
    A.ISSUE_INVOICE: _STAFF | {Role.MERCHANT},
    A.OFFER_COUPON: _STAFF,
    A.APPEAL: frozenset({Role.CUSTOMER, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN}),
}
# Who is alerted when a refund fails, to retry it (retry_refund is staff's).
REFUND_RETRIERS = (Role.SUPERVISOR.value, Role.AGENT_T2.value)
# Actions that need something written down with them.
NEEDS_REASON = frozenset({A.REJECT, A.REQUEST_EVIDENCE, A.INSPECT_FAIL, A.APPEAL})
NEEDS_TRACKING = frozenset({A.SHIP_BACK, A.SHIP_REPLACEMENT, A.FINISH_REPAIR, A.RETURN_GOODS})
NOT_SENT_YET = (
    "The customer has not sent the goods back yet: 'receive' needs the return's tracking number "
    "or a booked pickup first."
)


def pickup_refusal(pickup_at: datetime, now: datetime) -> tuple[str, str] | None:
    """(zh, en) when a courier cannot come then: a visit in the past never happens, so no booking
    number may be given for it."""
    if pickup_at <= now:
        return (
            "上门取件时间不能早于现在，请选择一个将来的时间。",
            "The pickup time cannot be in the past: choose a time from now on.",
        )
    return None


def goods_sent(return_tracking: str | None, pickup_at: datetime | None) -> bool:
    """Receipt is confirmed only of goods the customer sent: by post (a tracking number) or handed
    to a booked courier; otherwise a seller could close a return nobody ever shipped."""
    return bool((return_tracking or "").strip()) or pickup_at is not None


def offered(action: CaseAction, return_tracking: str | None, pickup_at: datetime | None) -> bool:
    """Whether a page offers an action the table allows: receipt only of goods sent; a pickup
    once (moving a booked one is for the API and staff, not a second booking form)."""
    if action is A.RECEIVE:
        return goods_sent(return_tracking, pickup_at)
    if action is A.BOOK_PICKUP:
        return pickup_at is None
    return True


def return_shipping_payer(kind: CaseKind, payer: str) -> str:
    """Who pays the return parcel, only for kinds whose goods travel back (a refund without return,
    a compensation or an invoice has no return parcel to pay for); "" otherwise."""
    return payer if kind in RETURN_KINDS else ""


def next_status(kind: CaseKind, status: CaseStatus, action: CaseAction) -> CaseStatus | None:
    return TRANSITIONS[kind].get((status, action))


def allowed_actions(kind: CaseKind, status: CaseStatus, role: Role | None = None) -> list[CaseAction]:
    """What can be done next, in the table's order; for a role, only what that role may do."""
    return [
        action
        for (from_status, action) in TRANSITIONS[kind]
        if from_status is status and (role is None or role in ACTORS[action])
    ]


def refusal(kind: CaseKind, status: CaseStatus, action: CaseAction) -> str:
    """A sentence naming the state that refused the action, and what is possible instead."""
    possible = ", ".join(a.value for a in allowed_actions(kind, status)) or "nothing (the case is closed)"
    return f"A {kind.value} case that is {status.value} cannot '{action.value}'. Possible now: {possible}."


# A small frozen dataclass like the taxonomy's on purpose: the case's own numbers for one line.
@dataclass(frozen=True, slots=True)
class LineClaim:
    """What a case may take from one order line."""

    ordered: int
    delivered: int
    already_claimed: int

    def claimable(self, kind: CaseKind) -> int:
        # Goods must have arrived to be returned, exchanged or repaired; money-only cases may
        # cover what was ordered (an undelivered parcel, a missing item).
        base = self.delivered if kind in RETURN_KINDS else self.ordered
        return max(base - self.already_claimed, 0)


def claim_refusal(line_no: int, claimable: int) -> tuple[str, str]:
    """(zh, en) when a request asks more units of a line than can still be claimed."""
    return (
        f"第 {line_no} 行最多还可申请 {claimable} 件。",
        f"At most {claimable} of line {line_no} can still be claimed.",
    )


def check_units(line_no: int, units: int, quantity: int) -> None:
    """A request never names more units than the order line holds (the reader's language comes
    from the catalogue key)."""
    if quantity > units:
        raise Invalid(
            f"Line {line_no} holds {units} unit(s); {quantity} were asked for.",
            key="error.more_units_than_the_line",
            line=line_no,
            units=units,
            asked=quantity,
        )


# The solution each kind carries out: a policy may allow several, a case of one kind delivers its own.
SOLUTIONS: dict[CaseKind, frozenset[str]] = {
    K.REFUND_ONLY: frozenset({"refund"}),
    K.RETURN_REFUND: frozenset({"refund"}),
    K.EXCHANGE: frozenset({"exchange"}),
    K.REPAIR: frozenset({"repair"}),
    K.PRICE_PROTECTION: frozenset({"compensation", "refund"}),
    K.COMPENSATION: frozenset({"compensation"}),
    K.INVOICE: frozenset({"invoice"}),
}
# A word table like views.FORM_PROBLEMS on purpose: each holds its own words in both languages.
SOLUTION_WORDS = {
    "refund": ("退款", "a refund"),
    "exchange": ("换货", "an exchange"),
    "repair": ("维修", "a repair"),
    "compensation": ("赔付", "compensation"),
    "invoice": ("补开发票", "an invoice"),
    "coupon": ("优惠券", "a coupon"),
}


def solutions_for(kind: CaseKind, allowed: list[str]) -> list[str]:
    """What the customer is offered for this kind: only the policies' solutions this kind carries
    out (a return and refund is never offered an exchange)."""
    return [r for r in allowed if r in SOLUTIONS[kind]]


def kind_refusal(kind: CaseKind, allowed: list[str]) -> tuple[str, str] | None:
    """(zh, en) when the policies solve the problem, but not by this kind (an appliance replaced,
    not refunded): the customer is told which kind to ask for instead."""
    if not allowed or solutions_for(kind, allowed):
        return None
    zh = "、".join(SOLUTION_WORDS.get(r, (r, r))[0] for r in allowed)
    en = " or ".join(SOLUTION_WORDS.get(r, (r, r))[1] for r in allowed)
    return (
        f"这种情况可以申请{zh}，请选择对应的售后类型重新提交。",
        f"This can be solved with {en}: choose that kind of request instead.",
    )


def days_since(day: date | None, today: date) -> int | None:
    """Whole days counted from the day after `day`, both in the shop's time zone (the 7-day
    rule: received on the 1st, the 8th is day 7)."""
    if day is None:
        return None
    return (today - day).days


def case_amount(
    kind: CaseKind, quantity: int, paid: Decimal, price_drop: Decimal | None, unit_price: Decimal | None = None
) -> Decimal:
    """What a case asks for on a line: what those units were paid (their share of the order's
    discount and shipping included, not the list price) when money goes back; the price drop for
    price protection; nothing for an invoice. An exchange or a repair moves no money: its amount
    is the value of the goods at their price, so the same goods read the same whoever files it and
    whichever unit of the line it is (a paid share carries the order's discount, shipping and the
    rounding left to the line's last unit)."""
    if kind is CaseKind.PRICE_PROTECTION:
        return max(price_drop or Decimal(0), Decimal(0)) * quantity
    if kind is CaseKind.INVOICE:
        return Decimal(0)
    if kind in (CaseKind.EXCHANGE, CaseKind.REPAIR) and unit_price is not None:
        return unit_price * quantity
    return paid


def shipping_share(unit_price: Decimal, quantity: int, amount: Decimal | None) -> Decimal | None:
    """What a line's amount carries above the goods' price: its share of the order's shipping fee
    (less its share of any discount), refunded with the goods; None when it is not above (a ¥35
    book refunded ¥39 says why)."""
    if amount is None:
        return None
    extra = amount - unit_price * quantity
    return extra if extra > 0 else None


def refund_shipping_share(amount: Decimal, lines: list[tuple[Decimal, int, Decimal | None]]) -> str:
    """The part of a refund that is its lines' shipping share (unit price, quantity, amount per
    line), as text for the notice; "" when the refund is not above the goods' price."""
    extra = sum((shipping_share(price, qty, paid) or Decimal(0) for price, qty, paid in lines), Decimal(0))
    return str(min(extra, amount)) if extra > 0 else ""


# Kinds whose refund pays back order lines; compensation is paid on the order as a whole.
LINE_REFUND_KINDS = frozenset({K.REFUND_ONLY, K.RETURN_REFUND, K.PRICE_PROTECTION})
REFUND_KINDS = MONEY_KINDS | {K.RETURN_REFUND}
MAX_BUSINESS_KEY = 100


def refund_business_key(case_id: int, line_nos: list[int], reason: str) -> str:
    """What a case's refund pays for: (case, lines, reason). The gateway's idempotency key is derived
    from it, so approving twice, a retried worker or two agents at once pay once."""
    lines = "+".join(str(n) for n in sorted(line_nos)) or "order"
    key = f"case:{case_id}:line:{lines}:{reason}"
    return key if len(key) <= MAX_BUSINESS_KEY else f"case:{case_id}:lines:{len(line_nos)}:{reason}"[:MAX_BUSINESS_KEY]


def refund_parts(
    kind: CaseKind, amount: Decimal, lines: list[tuple[int, Decimal]], currency: str
) -> dict[int, Decimal] | None:
    """The approved amount per order line, shared out in proportion to what each case line asked
    for (exactly that when all is approved). None when the refund is not for lines."""
    if kind not in LINE_REFUND_KINDS or not lines:
        return None
    parts: dict[int, Decimal] = {}
    for (line_id, _), part in zip(lines, allocate(amount, [w for _, w in lines], currency), strict=True):
        parts[line_id] = parts.get(line_id, Decimal(0)) + part
    return parts


def check_approved_amount(
    amount: Decimal, requested: Decimal, still_refundable: Decimal | None, currency: str, order_number: str
) -> None:
    """An approval never gives more than was requested, nor more than the case's lines (the order,
    for compensation) can still refund."""
    if amount > requested:
        raise Invalid(
            f"You can approve at most {requested} {currency}, the amount requested; {amount} {currency} was entered."
        )
    if still_refundable is not None and amount > still_refundable:
        raise Conflict(
            f"Order {order_number} can refund at most {still_refundable} {currency} more on this case's lines "
            f"(what was paid less refunds done or on their way); {amount} {currency} was asked."
        )


def case_number(on: date, case_id: int) -> str:
    return f"AS{on:%y%m%d}{case_id:06d}"


# --- merchant tasks ------------------------------------------------------------------------------
URGE_TASK = "urge"
# Who may mark a merchant's task handled: its own side, and platform staff acting for it.
TASK_HANDLERS = frozenset({Role.MERCHANT, Role.WAREHOUSE, Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN})


def task_due(created_at: datetime, answer_hours: int) -> datetime:
    """When the merchant must have acted on an urge (wall-clock hours: a parcel does not wait for
    office hours)."""
    return created_at + timedelta(hours=answer_hours)


def task_overdue(due_at: datetime, handled_at: datetime | None, now: datetime) -> bool:
    return handled_at is None and due_at <= now


def compensation_over_cap(order_number: str, currency: str, cap: Decimal, left: Decimal) -> tuple[str, str]:
    """The sentence (zh, en) for a compensation claim above what the order can still carry."""
    return (
        f"超出赔付上限：订单 {order_number} 的赔付总额最多为 {shown(cap, currency, 'zh_CN')}，"
        f"目前最多还可申请 {shown(left, currency, 'zh_CN')}。",
        f"Over the cap: compensation on order {order_number} is capped at {shown(cap, currency, 'en')} in total; "
        f"at most {shown(left, currency, 'en')} can still be claimed.",
    )


def out_of_stock_units(asked: int | None, unclaimed: int, line_no: int) -> int:
    """How many units of a line a stock-out report refunds: the units asked for (all that are left
    when none are named), never units already claimed by another case."""
    if unclaimed <= 0:
        raise Conflict(f"Line {line_no} is already covered by after-sales cases; nothing is left to refund.")
    if asked is None:
        return unclaimed
    if asked < 1:
        raise Invalid("Report at least 1 unit out of stock.")
    if asked > unclaimed:
        raise Invalid(f"Line {line_no} has {unclaimed} unit(s) not yet claimed; report at most {unclaimed}.")
    return asked


def moves_money(kind: CaseKind, status: CaseStatus, action: CaseAction) -> bool:
    """The action starts a refund at once (approving a refund or compensation, retrying a refund):
    the page asks once, with the amount, before doing it."""
    return next_status(kind, status, action) is CaseStatus.REFUNDING and action is not CaseAction.INSPECT_PASS
