"""The task queue: the port every context declares its background work on and enqueues through.

Contexts import `huey` from here (`@huey.task()`, `@huey.periodic_task(...)`, `task.schedule(...)`);
the settings bind it to a store: a SQLite file by default, Redis when AFTERSALES_QUEUE_URL is
redis://, in memory (run inline) for tests. The worker process (aftersales.worker, a composition
root) imports the contexts' task modules and consumes the queue; no context imports the worker."""

from __future__ import annotations

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from aftersales.config import get_settings


def make_huey() -> Huey:
    settings = get_settings()
    settings.ensure_data_dirs()
    url = settings.queue_url
    if settings.queue_immediate or url == "memory://":
        return MemoryHuey("aftersales", immediate=settings.queue_immediate)
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey("aftersales", url=url)
    if url.startswith("sqlite:///"):
        return SqliteHuey("aftersales", filename=url.removeprefix("sqlite:///"))
    raise ValueError(f"AFTERSALES_QUEUE_URL {url!r}: use sqlite:///path, redis://host:port/db or memory://")


huey = make_huey()
