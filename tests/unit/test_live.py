"""Live signals leave on commit only, reach every subscriber of the channel, and frame as SSE."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from aftersales.messaging import live


def test_signal_leaves_on_commit_and_not_on_rollback() -> None:
    live.configure("")
    received: list[str] = []

    async def scenario() -> None:
        events = live.hub().subscribe("queue:t1")

        async def listen() -> None:
            async for name in events:
                received.append(name)
                if name == "assigned":
                    return

        task = asyncio.create_task(listen())
        await asyncio.sleep(0)
        engine = create_engine("sqlite://")
        with Session(engine) as session:
            live.notify(session, "queue:t1", "dropped", audience=live.STAFF)
            session.rollback()
            live.notify(session, "queue:t1", "assigned", audience=live.STAFF)
            live.notify(session, "other", "ignored", audience=live.STAFF)
            session.commit()
        await asyncio.wait_for(task, 2)

    asyncio.run(scenario())
    assert received == ["assigned"]
    assert live.hub().subscriber_count("queue:t1") == 0


def test_stream_sends_ready_then_ticks_when_idle() -> None:
    async def first_two() -> list[str]:
        frames = live.stream("idle", viewer=None, tick_seconds=0.05)
        out = [await anext(frames), await anext(frames)]
        await frames.aclose()
        return out

    ready, tick = asyncio.run(first_two())
    assert ready.startswith("event: ready\n")
    assert tick == "event: tick\ndata: \n\n"


def test_frame_splits_multiline_data() -> None:
    assert live.sse_frame("msg", "a\nb") == "event: msg\ndata: a\ndata: b\n\n"


def test_each_subscriber_hears_only_signals_whose_audience_admits_it() -> None:
    from aftersales.kit.access import Principal, Role

    live.configure("")
    shop_a = Principal(user_id=11, username="shop-a", role=Role.MERCHANT, merchant_id=1)
    shop_b = Principal(user_id=12, username="shop-b", role=Role.MERCHANT, merchant_id=2)
    alice = Principal(user_id=13, username="alice", role=Role.CUSTOMER, customer_id=7)
    agent = Principal(user_id=14, username="agent", role=Role.AGENT_T1)
    heard: dict[str, list[str]] = {}

    async def scenario() -> None:
        with (
            live.hub().listen("desk:all", viewer=shop_a) as qa,
            live.hub().listen("desk:all", viewer=shop_b) as qb,
            live.hub().listen("desk:all", viewer=alice) as qc,
            live.hub().listen("desk:all", viewer=agent) as qs,
        ):
            live.hub().publish("desk:all", "of-a", live.Audience.of(merchant_id=1, customer_id=7))
            live.hub().publish("desk:all", "of-b", live.Audience.of(merchant_id=2))
            live.hub().publish("desk:all", "for-shop-b-user", live.Audience.of(user_id=12))
            live.hub().publish("desk:all", "staff-only", live.STAFF)
            await asyncio.sleep(0.05)
            for name, queue in (("a", qa), ("b", qb), ("alice", qc), ("agent", qs)):
                heard[name] = [queue.get_nowait() for _ in range(queue.qsize())]

    asyncio.run(scenario())
    assert heard == {
        "a": ["of-a"],
        "b": ["of-b", "for-shop-b-user"],
        "alice": ["of-a"],
        "agent": ["of-a", "of-b", "for-shop-b-user", "staff-only"],
    }


def test_a_signal_from_redis_keeps_its_audience_and_an_old_one_is_for_staff() -> None:
    audience = live.Audience.of(merchant_id=3, customer_id=4)
    import json

    sent = json.dumps({"event": "changed", "audience": audience.to_json()})
    assert live._decode(sent) == ("changed", audience)
    assert live._decode("changed") == ("changed", live.STAFF)
