"""Use cases of the wallet context, and its public face: other contexts import this module only.

Every entry is issued through the coupon-issuer port (issuer.py) under the idempotency key of the
business fact it pays for, then recorded here with its event in one transaction. A worker that dies
between the two is retried: the issuer answers the same coupon for the same key, and the record is
written once (a unique key), so a fact is paid once whatever is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog
from sqlalchemy.exc import IntegrityError

from aftersales.cases import service as cases
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.messaging.outbox import publish_event
from aftersales.orders import service as orders
from aftersales.rules import service as rules
from aftersales.timeline.domain import SYSTEM_ACTOR, Actor, actor_of
from aftersales.wallet import domain
from aftersales.wallet.domain import EntryKind, EntryStatus, SourceKind, Trigger, WalletRuleError
from aftersales.wallet.events import CouponIssued
from aftersales.wallet.issuer import CouponIssuer, IssuerRejected, IssuerUnavailable, default_issuer
from aftersales.wallet.models import ForceMajeure, WalletEntry
from aftersales.wallet.repository import WalletRepository
from aftersales.wallet.schemas import (
    Compensation,
    EntryOut,
    ForceMajeureIn,
    ForceMajeureOut,
    OfferIn,
    VipOfferIn,
    WalletOut,
)

log = structlog.get_logger(__name__)

OFFERERS = (Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN)
STAFF_READERS = (*OFFERERS, Role.ARBITRATOR)
COMPENSATION = rules.Purpose.COMPENSATION.value


@dataclass(frozen=True, slots=True)
class _Grant:
    """One entry to issue: for whom, how much, why, and under which business fact."""

    key: str
    customer_id: int
    value: Decimal
    currency: str
    valid_days: int | None
    trigger: Trigger
    source_kind: SourceKind
    source_ref: str
    reason: str
    order_number: str
    order_id: int
    actor: Actor = SYSTEM_ACTOR


def _out(entry: WalletEntry, now: datetime) -> EntryOut:
    out = EntryOut.model_validate(entry)
    out.status = domain.status_at(entry.status, clock.ensure_utc(entry.expires_at), now).value
    return out


# --- issuing -------------------------------------------------------------------------------------
def _issue(db: Database, grant: _Grant, issuer: CouponIssuer | None = None) -> tuple[EntryOut, bool]:
    """Issue once per business fact: (the entry, whether this call created it)."""
    now = clock.now()
    with db.read() as uow:
        existing = WalletRepository(uow.session).by_key(grant.key)
        if existing is not None:
            return _out(existing, now), False
    expires_at = domain.expiry(now, grant.valid_days)
    ack = (issuer or default_issuer(db)).issue(
        grant.key, str(grant.customer_id), grant.value, grant.currency, expires_at
    )
    return _record(db, grant, ack.code, ack.expires_at, now)


def _record(db: Database, grant: _Grant, code: str, expires_at: datetime, now: datetime) -> tuple[EntryOut, bool]:
    """Write what the issuer issued, with its event, in one transaction; once per key."""
    try:
        with db.write() as uow:
            entry = WalletEntry(
                customer_id=grant.customer_id,
                kind=EntryKind.COUPON.value,
                code=code,
                value=grant.value,
                currency=grant.currency,
                status=EntryStatus.ISSUED.value,
                issued_at=now,
                expires_at=expires_at,
                closed_at=None,
                source_kind=grant.source_kind.value,
                source_ref=grant.source_ref[:120],
                trigger=grant.trigger.value,
                reason=grant.reason[: domain.MAX_REASON],
                order_number=grant.order_number,
                idempotency_key=grant.key,
            )
            WalletRepository(uow.session).add(entry)
            event = CouponIssued(
                customer_id=grant.customer_id,
                code=code,
                amount=str(grant.value),
                currency=grant.currency,
                trigger=grant.trigger.value,
                order_number=grant.order_number,
                expires_at=expires_at.isoformat(),
                occurred_at=now.isoformat(),
            )
            publish_event(uow.session, event, f"wallet:{grant.key}")
            # On the order's timeline too, so the customer's progress view and the audit log show it.
            orders.record_note(
                uow.session,
                grant.order_id,
                "order.coupon_issued",
                grant.actor,
                f"{grant.value} {grant.currency} · {code}",
                occurred_at=now,
                evidence={"code": code, "trigger": grant.trigger.value, "source": grant.source_ref},
            )
            uow.commit()
            out = _out(entry, now)
    except IntegrityError:
        # Another delivery of the same fact recorded it first; its entry is the answer.
        with db.read() as uow:
            existing = WalletRepository(uow.session).by_key(grant.key)
            if existing is None:
                raise
            return _out(existing, now), False
    log.info("wallet.issued", key=grant.key, value=str(grant.value), trigger=grant.trigger.value)
    return out, True


# --- lateness compensation (超时赔付) -------------------------------------------------------------
def compensate_late_delivery(db: Database, order_id: int, issuer: CouponIssuer | None = None) -> Compensation:
    """Pay a delivered order's lateness against its frozen promise as the compensation policies say:
    once per order, whatever is retried. IssuerUnavailable is raised for the caller to retry."""
    with db.read() as uow:
        record = orders.delivery_record_in(uow.session, order_id, get_settings().zone)
        if record is None:
            raise NotFound(f"No order #{order_id}.")
        number = record.number
        existing = WalletRepository(uow.session).by_key(domain.lateness_key(number))
        if existing is not None:
            return Compensation(outcome="already_issued", order_number=number, entry=_out(existing, clock.now()))
        late = domain.lateness(
            clock.ensure_utc(record.promised_at) if record.promised_at else None,
            clock.ensure_utc(record.delivered_at) if record.delivered_at else None,
        )
        if late is None or not late.late or record.promised_at is None or record.delivered_at is None:
            return Compensation(outcome="none", order_number=number, reason="not delivered after its promise")
        promised, delivered = clock.ensure_utc(record.promised_at), clock.ensure_utc(record.delivered_at)
        periods = [
            domain.ForceMajeurePeriod(p.region, clock.ensure_utc(p.starts_at), clock.ensure_utc(p.ends_at))
            for p in WalletRepository(uow.session).periods_around(promised, delivered)
        ]
        facts = domain.lateness_facts(
            late,
            on_demand=record.on_demand,
            preorder=record.preorder,
            force_majeure=domain.in_force_majeure(periods, record.region, promised, delivered),
            buyer_fault=record.buyer_fault,
            paid=record.paid,
            tier=record.customer_tier,
        )
        decision = rules.decide(uow.session, facts, record.merchant_id, COMPENSATION)
    value = rules.coupon_value(record.paid, decision)
    if value is None:
        return Compensation(outcome="none", order_number=number, reason=decision.reason("en"))
    grant = _Grant(
        key=domain.lateness_key(number),
        customer_id=record.customer_id,
        value=value,
        currency=record.currency,
        valid_days=decision.coupon_valid_days,
        trigger=Trigger.LATE_DELIVERY,
        source_kind=SourceKind.RULE,
        source_ref=decision.coupon_policy or "compensation",
        reason=decision.reason("zh"),
        order_number=number,
        order_id=record.order_id,
    )
    entry, created = _issue(db, grant, issuer)
    return Compensation(outcome="issued" if created else "already_issued", order_number=number, entry=entry)


# --- offers by a person ----------------------------------------------------------------------------
def offer_coupon(db: Database, data: OfferIn, by: Principal, issuer: CouponIssuer | None = None) -> EntryOut:
    """An agent's goodwill coupon on an order: within the policies' limit, once per ticket (or per
    order when there is no ticket)."""
    _check_offerer(by)
    with db.read() as uow:
        facts = orders.order_facts(uow.session, data.order_number, by)
        decision = rules.decide(
            uow.session,
            {
                "coupon.trigger": Trigger.AGENT_OFFER.value,
                "customer.tier": facts.customer_tier,
                "order.total": facts.payable_total,
            },
            facts.merchant_id,
            COMPENSATION,
        )
    limit = decision.coupon_max if decision.eligible else None
    if not domain.within_limit(data.amount, limit):
        raise Invalid(
            f"An agent may offer at most {limit} {facts.currency} on this order."
            if limit is not None
            else "No policy lets agents offer coupons on this order.",
            key="wallet.over_limit",
            limit=str(limit or 0),
        )
    key = (
        domain.agent_offer_key("ticket", data.ticket_number)
        if data.ticket_number
        else domain.agent_offer_key("order", facts.number)
    )
    grant = _Grant(
        key=key,
        customer_id=facts.customer_id,
        value=_checked(data.amount, facts.currency),
        currency=facts.currency,
        valid_days=decision.coupon_valid_days,
        trigger=Trigger.AGENT_OFFER,
        source_kind=SourceKind.PERSON,
        source_ref=by.username,
        reason=data.reason,
        order_number=facts.number,
        order_id=facts.order_id,
        actor=actor_of(by),
    )
    return _issue_for_person(db, grant, issuer)


def offer_vip_coupon(db: Database, data: VipOfferIn, by: Principal, issuer: CouponIssuer | None = None) -> EntryOut:
    """The VIP members' extra coupon a case's decision offered (policy vip_extra_coupon), issued by
    the agent handling the case: once per case, worth what the vip_offer policy says."""
    _check_offerer(by)
    case = cases.get_case(db, data.case_number, by)
    if "extra_coupon" not in case.offers:
        raise Conflict(
            f"Case {case.number}'s decision offers no extra coupon (only VIP members' requests do).",
            key="wallet.no_vip_offer",
        )
    with db.read() as uow:
        facts = orders.order_facts(uow.session, case.order_number, by)
        decision = rules.decide(
            uow.session,
            {
                "coupon.trigger": Trigger.VIP_OFFER.value,
                "customer.tier": facts.customer_tier,
                "order.total": facts.payable_total,
            },
            facts.merchant_id,
            COMPENSATION,
        )
    value = rules.coupon_value(facts.payable_total, decision)
    if value is None:
        raise Conflict("No policy sets the VIP coupon's value for this customer.", key="wallet.no_vip_offer")
    grant = _Grant(
        key=domain.vip_offer_key(case.number),
        customer_id=facts.customer_id,
        value=value,
        currency=facts.currency,
        valid_days=decision.coupon_valid_days,
        trigger=Trigger.VIP_OFFER,
        source_kind=SourceKind.PERSON,
        source_ref=by.username,
        reason=f"{case.number} · {decision.coupon_policy or 'vip_offer'}",
        order_number=facts.number,
        order_id=facts.order_id,
        actor=actor_of(by),
    )
    return _issue_for_person(db, grant, issuer)


def _check_offerer(by: Principal) -> None:
    if not by.has(*OFFERERS):
        raise Forbidden("Only customer-service staff may offer coupons.")


def _checked(value: Decimal, currency: str) -> Decimal:
    try:
        return domain.check_value(value, currency)
    except WalletRuleError as exc:
        raise Invalid(str(exc)) from exc


def _issue_for_person(db: Database, grant: _Grant, issuer: CouponIssuer | None) -> EntryOut:
    """A person's offer: the same fact offered twice answers the coupon already given (409)."""
    try:
        entry, created = _issue(db, grant, issuer)
    except IssuerUnavailable as exc:
        raise Conflict("The coupon system did not answer; try again in a moment.", key="wallet.issuer_away") from exc
    except IssuerRejected as exc:
        raise Conflict(str(exc), key="wallet.issuer_refused") from exc
    if not created:
        raise Conflict(
            f"A coupon ({entry.code}, {entry.value} {entry.currency}) was already given for this; "
            "one per ticket or case.",
            key="wallet.already_offered",
            code=entry.code,
        )
    return entry


# --- reading -------------------------------------------------------------------------------------
def wallet_of(db: Database, customer_id: int, viewer: Principal) -> WalletOut:
    """A customer's wallet: the customer's own, or any customer's for service staff."""
    if viewer.role is Role.CUSTOMER:
        if viewer.customer_id != customer_id:
            raise NotFound("No wallet that you can see.")
    elif not viewer.has(*STAFF_READERS):
        raise Forbidden("Only the customer and customer-service staff see a wallet.")
    now = clock.now()
    with db.read() as uow:
        entries = [_out(e, now) for e in WalletRepository(uow.session).of_customer(customer_id)]
    usable = [e for e in entries if e.status == EntryStatus.ISSUED.value]
    currency = entries[0].currency if entries else "CNY"
    total = sum((e.value for e in usable if e.currency == currency), Decimal(0))
    return WalletOut(customer_id=customer_id, entries=entries, usable_total=total, currency=currency)


def wallet_of_order(db: Database, order_number: str, viewer: Principal) -> tuple[str, WalletOut]:
    """The wallet of an order's customer (the agent's sidebar), with the customer's tier."""
    with db.read() as uow:
        facts = orders.order_facts(uow.session, order_number, viewer)
    return facts.customer_tier, wallet_of(db, facts.customer_id, viewer)


def source_names(db: Database, lang: str) -> dict[str, str]:
    """The policies' names in the reader's language, for entries a rule issued."""
    return rules.policy_names(db, lang)


def offer_limit(db: Database, order_number: str, viewer: Principal) -> Decimal | None:
    """The most an agent may offer on this order (None: no offer allowed)."""
    with db.read() as uow:
        facts = orders.order_facts(uow.session, order_number, viewer)
        decision = rules.decide(
            uow.session,
            {
                "coupon.trigger": Trigger.AGENT_OFFER.value,
                "customer.tier": facts.customer_tier,
                "order.total": facts.payable_total,
            },
            facts.merchant_id,
            COMPENSATION,
        )
    return decision.coupon_max if decision.eligible else None


# --- force majeure -------------------------------------------------------------------------------
def declare_force_majeure(db: Database, data: ForceMajeureIn, by: Principal) -> ForceMajeureOut:
    """An administrator declares a period and region force majeure: deliveries late inside it earn
    no lateness compensation."""
    if not by.has(Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden("Only an administrator or a supervisor declares force majeure.")
    starts, ends = clock.ensure_utc(data.starts_at), clock.ensure_utc(data.ends_at)
    try:
        region = domain.check_period(data.region, starts, ends)
    except WalletRuleError as exc:
        raise Invalid(str(exc)) from exc
    with db.write() as uow:
        row = ForceMajeure(
            region=region,
            starts_at=starts,
            ends_at=ends,
            reason=data.reason,
            declared_by=by.username,
            declared_at=clock.now(),
        )
        WalletRepository(uow.session).add(row)
        uow.commit()
        return ForceMajeureOut.model_validate(row)


def force_majeure_periods(db: Database) -> list[ForceMajeureOut]:
    with db.read() as uow:
        return [ForceMajeureOut.model_validate(p) for p in WalletRepository(uow.session).recent_periods()]


# --- what help may quote -------------------------------------------------------------------------
def help_facts(db: Database) -> dict[str, tuple[str, str]]:
    """The lateness compensation the enabled policies pay, in words an article quotes:
    `wallet.parcel` and `wallet.on_demand` → (zh, en). A switched-off policy drops out of the text,
    so help never promises a coupon no rule issues."""
    with db.read() as uow:
        policies = rules.active_rules(uow.session, COMPENSATION)
    terms = domain.lateness_terms([(p.when, p.then) for p in policies])
    return {
        "wallet.parcel": domain.parcel_words(terms.parcel),
        "wallet.on_demand": domain.on_demand_words(terms.on_demand),
    }
