"""The demo shop's satisfaction surveys: each solved ticket's survey leaves at its own moment (a
day after the solve), about two thirds of customers answer within two days, mostly content, some
not; surveys nobody answered lapse after 7 days. The demo customer (李娜) has one waiting in her
inbox, about a ticket of hers solved two days ago."""

from __future__ import annotations

import heapq
import random
from datetime import datetime, timedelta

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.errors import AppError
from aftersales.surveys import service as surveys
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, MessageKind, TicketStatus
from aftersales.tickets.schemas import MessageIn, TicketIn

from .history import History
from .timing import Past, living_the_past

ANSWERED_SHARE = 0.65
# (weight, scores, reason tags, comment)
ANSWERS: list[tuple[int, tuple[str, str, str], list[str], str]] = [
    (40, ("5", "5", "5"), [], ""),
    (20, ("5", "4", "5"), [], ""),
    (12, ("4", "4", "4"), [], ""),
    (8, ("4", "3", "5"), ["slow_reply"], "等了挺久才有人回复。"),
    (6, ("3", "4", "4"), ["too_many_steps"], "退货流程步骤有点多。"),
    (4, ("2", "3", "3"), ["not_solved", "repeat_myself"], "同样的问题说了好几遍，还是没解决。"),
    (3, ("1", "2", "2"), ["not_solved", "compensation"], "补偿方案不合理。"),
]
LINA_ASKS = "上次的售后处理得挺快的，想再确认一下退款到账后会有短信通知吗？"
LINA_ANSWER = "您好，退款到账后系统会通过短信和站内信通知您，请放心。"


def seed_surveys(db: Database, history: History, rng: random.Random) -> int:
    """Live the surveys' weeks in time order (each survey sent at its due time, each answer a few
    hours to two days later, before its 7 days are up); returns how many were answered."""
    answered = 0
    with living_the_past(db) as past:
        lina_ticket = _lina_asks(db, history, past)
        # (moment, order, link or "" for a send, scores, tags, comment)
        events: list[tuple[datetime, int, str, tuple[str, ...], tuple[str, ...], str]] = [
            (due, n, "", (), (), "") for n, due in enumerate(surveys.scheduled_sends(db)) if due <= history.now
        ]
        heapq.heapify(events)
        decided: set[int] = set()
        order = len(events)
        while events:
            moment, _n, link, scores, tags, comment = heapq.heappop(events)
            if link:
                try:
                    with past.at(moment):
                        surveys.answer(db, link.removeprefix("/surveys/"), list(scores), list(tags), comment)
                    answered += 1
                except AppError:
                    pass
                continue
            with past.at(moment):
                surveys.sweep(db, moment)
            for survey, survey_link in surveys.awaiting_answers(db):
                if survey.id in decided or survey.sent_at is None or survey.subject_ref == lina_ticket:
                    continue
                decided.add(survey.id)
                when = max(survey.sent_at, moment) + timedelta(hours=rng.uniform(0.3, 48))
                if rng.random() > ANSWERED_SHARE or when >= history.now - timedelta(minutes=10):
                    continue
                _weight, picked, reasons, words = rng.choices(ANSWERS, weights=[a[0] for a in ANSWERS])[0]
                order += 1
                heapq.heappush(events, (when, order, survey_link, picked, tuple(reasons), words))
        with clock.frozen_at(history.now):
            surveys.sweep(db, history.now)  # the unanswered ones past their 7 days lapse
    return answered


def _lina_asks(db: Database, history: History, past: Past) -> str:
    """The demo customer asks about an order of hers delivered a while ago; an agent answers and
    solves it; its survey reaches her a day later and waits for her answer. Returns its number."""
    lina = identity.principal_for_username(db, "customer")
    agent = identity.principal_for_username(db, "agent1")
    asked = history.now - timedelta(days=2, hours=3)
    mine = [
        o for o in history.orders if o.customer.external_id == "C0001" and o.delivered_at and o.delivered_at < asked
    ]
    if lina is None or agent is None or not mine:
        return ""
    order = max(mine, key=lambda o: o.delivered_at or o.placed_at)
    data = TicketIn(subject="退款通知", body=LINA_ASKS, channel=Channel.WEB, order_number=order.number)
    try:
        with past.at(asked):
            number = tickets.open_ticket(db, data, lina, "demo-survey-lina").number
        with past.at(asked + timedelta(minutes=18)):
            tickets.post_message(
                db, number, MessageIn(body=LINA_ANSWER, kind=MessageKind.REPLY, then=TicketStatus.SOLVED), agent
            )
    except AppError:
        return ""
    return number
