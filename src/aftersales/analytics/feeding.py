"""Other contexts' events → metric events, each with its dimensions and its value in wall and in
business time (the SLA calendars). Every metric event's key is derived from its source fact, so an
event delivered twice adds nothing (docs/analytics.md lists each source)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from aftersales.analytics.domain import FCR_WINDOW, Dims, Metric, province_city
from aftersales.analytics.repository import AnalyticsRepository
from aftersales.analytics.service import Fact, record_in
from aftersales.cases.events import CaseStatusChanged, SelfServiceDone
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.clock import ensure_utc
from aftersales.orders import service as orders
from aftersales.orders.events import OrderStatusChanged
from aftersales.orders.schemas import OrderDims
from aftersales.refunds.events import RefundSettled
from aftersales.sla import service as sla
from aftersales.sla.events import SlaBreached, SlaMet
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import MetricFacts
from aftersales.tickets.events import PublicReplied, TicketOpened, TicketReopened

CASE_FINAL = frozenset({"completed", "rejected", "cancelled"})


def _at(text: str | None, fallback: datetime) -> datetime:
    return ensure_utc(datetime.fromisoformat(text)) if text else fallback


def _ticket_dims(facts: MetricFacts, agent_id: int | None = None) -> Dims:
    return Dims(
        agent_id=agent_id if agent_id is not None else facts.assignee_user_id,
        team=facts.group_key,
        channel=facts.channel,
        merchant_id=facts.merchant_id,
        category=facts.ticket_type,
        reason_tag=facts.scenario,
    )


def _ticket_fact(
    session: Session, name: Metric, facts: MetricFacts, at: datetime, key: str, *, start: datetime | None = None,
    business_s: float | None = None, agent_id: int | None = None,
) -> Fact:  # fmt: skip
    wall = max((at - start).total_seconds(), 0.0) if start is not None else 0.0
    if business_s is None:
        business_s = float(sla.business_seconds(session, start, at, facts.channel)) if start is not None else 0.0
    return Fact(
        name=name, occurred_at=at, subject_type="ticket", subject_ref=facts.number, key=key,
        dims=_ticket_dims(facts, agent_id), ticket_number=facts.number, customer_id=facts.customer_id,
        order_number=facts.order_number, value_s=wall, value_business_s=business_s,
    )  # fmt: skip


def _facts(session: Session, ticket_id: int | None = None, number: str = "") -> MetricFacts | None:
    return tickets.metric_facts(session, ticket_id=ticket_id, number=number)


def on_ticket_opened(db: Database, event: TicketOpened, _key: str) -> None:
    with db.write() as uow:
        s = uow.session
        facts = _facts(s, ticket_id=event.ticket_id)
        if facts is None:
            return
        at = _at(event.occurred_at, facts.created_at)
        record_in(s, _ticket_fact(s, Metric.TICKET_CREATED, facts, at, f"ticket_created:{facts.number}"))
        if event.conversation_id is not None:
            record_in(s, _ticket_fact(s, Metric.BOT_HANDOFF, facts, at, f"bot_handoff:{facts.number}"))
        if facts.customer_id is not None and facts.order_number:
            earlier = AnalyticsRepository(s).resolution_of_same_order(
                facts.customer_id, facts.order_number, at - FCR_WINDOW, at, facts.number
            )
            if earlier is not None:
                # Filed under the resolved ticket's dimensions: its first contact did not settle it.
                before = _facts(s, number=earlier.ticket_number)
                if before is not None:
                    fact = _ticket_fact(s, Metric.REPEAT_CONTACT, before, at, f"repeat_contact:{facts.number}",
                                        start=ensure_utc(earlier.occurred_at), agent_id=earlier.agent_id)  # fmt: skip
                    record_in(s, fact)
        uow.commit()


def on_public_reply(db: Database, event: PublicReplied, _key: str) -> None:
    with db.write() as uow:
        facts = _facts(uow.session, number=event.ticket_number)
        if facts is None or event.occurred_at is None:
            return  # a reply of an older release carries no time: not worth a guessed one
        at = _at(event.occurred_at, facts.created_at)
        fact = _ticket_fact(uow.session, Metric.REPLY, facts, at, f"reply:{event.message_id}",
                            agent_id=event.author_user_id)  # fmt: skip
        record_in(uow.session, fact)
        uow.commit()


def on_sla_met(db: Database, event: SlaMet, _key: str) -> None:
    with db.write() as uow:
        s = uow.session
        facts = _facts(s, ticket_id=event.subject_id)
        if facts is None:
            return
        at, start = _at(event.occurred_at, facts.created_at), _at(event.started_at, facts.created_at)
        outcome = Metric.SLA_BREACHED if event.late else Metric.SLA_MET
        record_in(s, _ticket_fact(s, outcome, facts, at, f"{outcome.value}:{event.clock_id}"))
        business = float(event.elapsed_seconds)
        if event.metric == "first_response" and event.cause == "first_response":
            record_in(s, _ticket_fact(s, Metric.FIRST_REPLY, facts, at, f"first_reply:{event.clock_id}", start=start,
                                      business_s=business))  # fmt: skip
        elif event.metric == "resolution":
            record_in(s, _ticket_fact(s, Metric.RESOLVED, facts, at, f"resolved:{event.clock_id}", start=start,
                                      business_s=business))  # fmt: skip
            if facts.agent_replies <= 1:
                record_in(s, _ticket_fact(s, Metric.ONE_TOUCH, facts, at, f"one_touch:{event.clock_id}"))
        uow.commit()


def on_sla_breached(db: Database, event: SlaBreached, _key: str) -> None:
    with db.write() as uow:
        facts = _facts(uow.session, ticket_id=event.subject_id)
        if facts is None:
            return
        at = _at(event.target_at, facts.created_at)
        record_in(uow.session, _ticket_fact(uow.session, Metric.SLA_BREACHED, facts, at,
                                            f"sla_breached:{event.clock_id}"))  # fmt: skip
        uow.commit()


def on_ticket_reopened(db: Database, event: TicketReopened, _key: str) -> None:
    with db.write() as uow:
        s = uow.session
        facts = _facts(s, ticket_id=event.ticket_id)
        if facts is None:
            return
        at = _at(event.occurred_at, facts.created_at)
        solved = AnalyticsRepository(s).last_event(Metric.RESOLVED, facts.number)
        start = ensure_utc(solved.occurred_at) if solved is not None and ensure_utc(solved.occurred_at) <= at else None
        record_in(s, _ticket_fact(s, Metric.REOPENED, facts, at, f"reopened:{facts.number}:{event.occurred_at}",
                                  start=start))  # fmt: skip
        uow.commit()


def _order_dims(session: Session, order_id: int | None = None, number: str = "") -> tuple[Dims, OrderDims | None]:
    found = orders.order_dims_in(session, order_id=order_id, number=number)
    if found is None:
        return Dims(), None
    province, city = province_city(found.region)
    dims = Dims(merchant_id=found.merchant_id, category=found.category, carrier=found.carrier, province=province,
                city=city)  # fmt: skip
    return dims, found


def on_case_status_changed(db: Database, event: CaseStatusChanged, _key: str) -> None:
    if event.from_status is not None and event.to_status not in CASE_FINAL:
        return
    with db.write() as uow:
        s = uow.session
        order_dims, _order = _order_dims(s, number=event.order_number)
        dims = replace(order_dims, merchant_id=event.merchant_id, reason_tag=event.kind)
        at = _at(event.occurred_at, _now())
        name, value_s, business_s = Metric.CASE_OPENED, 0.0, 0.0
        if event.from_status is not None:
            name = Metric.CASE_CLOSED
            opened = AnalyticsRepository(s).last_subject_event(Metric.CASE_OPENED, event.case_number)
            if opened is not None:
                start = ensure_utc(opened.occurred_at)
                value_s = max((at - start).total_seconds(), 0.0)
                business_s = float(sla.business_seconds(s, start, at))
        fact = Fact(name, at, subject_type="case", subject_ref=event.case_number,
                    key=f"{name.value}:{event.case_number}", dims=dims, customer_id=event.customer_id,
                    order_number=event.order_number, value_s=value_s, value_business_s=business_s)  # fmt: skip
        record_in(s, fact)
        uow.commit()


def _now() -> datetime:
    return clock.now()


def on_refund_settled(db: Database, event: RefundSettled, _key: str) -> None:
    if event.status != "succeeded":
        return
    with db.write() as uow:
        dims, _order = _order_dims(uow.session, number=event.order_number)
        fact = Fact(Metric.REFUND_PAID, _at(event.occurred_at, _now()), subject_type="refund",
                    subject_ref=str(event.refund_id), key=f"refund_paid:{event.refund_id}", dims=dims,
                    customer_id=event.customer_id, order_number=event.order_number)  # fmt: skip
        record_in(uow.session, fact)
        uow.commit()


def on_order_status_changed(db: Database, event: OrderStatusChanged, _key: str) -> None:
    if event.from_status is not None and event.to_status != "delivered":
        return
    with db.write() as uow:
        s = uow.session
        dims, order = _order_dims(s, order_id=event.order_id)
        at = _at(event.occurred_at, _now())
        name, value_s, business_s = Metric.ORDER_PLACED, 0.0, 0.0
        if event.from_status is not None:
            name = Metric.DELIVERY_DONE
            if order is not None and order.paid_at is not None:
                paid = ensure_utc(order.paid_at)
                value_s = max((at - paid).total_seconds(), 0.0)
                business_s = float(sla.business_seconds(s, paid, at))
        fact = Fact(name, at, subject_type="order", subject_ref=event.order, key=f"{name.value}:{event.order_id}",
                    dims=dims, customer_id=event.customer_id, order_number=event.order, value_s=value_s,
                    value_business_s=business_s)  # fmt: skip
        record_in(s, fact)
        uow.commit()


def on_self_service_done(db: Database, event: SelfServiceDone, key: str) -> None:
    with db.write() as uow:
        dims, order = _order_dims(uow.session, order_id=event.order_id)
        fact = Fact(Metric.SELF_SERVICE_DONE, _at(event.occurred_at, _now()), subject_type="order",
                    subject_ref=order.number if order else str(event.order_id), key=f"self_service_done:{key}",
                    dims=replace(dims, channel="self_service"), customer_id=event.customer_id,
                    order_number=order.number if order else "")  # fmt: skip
        record_in(uow.session, fact)
        uow.commit()
