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
            live.notify(session, "queue:t1", "dropped")
            session.rollback()
            live.notify(session, "queue:t1", "assigned")
            live.notify(session, "other", "ignored")
            session.commit()
        await asyncio.wait_for(task, 2)

    asyncio.run(scenario())
    assert received == ["assigned"]
    assert live.hub().subscriber_count("queue:t1") == 0


def test_stream_sends_ready_then_ticks_when_idle() -> None:
    async def first_two() -> list[str]:
        frames = live.stream("idle", tick_seconds=0.05)
        out = [await anext(frames), await anext(frames)]
        await frames.aclose()
        return out

    ready, tick = asyncio.run(first_two())
    assert ready.startswith("event: ready\n")
    assert tick == "event: tick\ndata: \n\n"


def test_frame_splits_multiline_data() -> None:
    assert live.sse_frame("msg", "a\nb") == "event: msg\ndata: a\ndata: b\n\n"
