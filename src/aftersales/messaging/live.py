"""Live updates for pages that stream Server-Sent Events (agent queues, tickets, chat).

A service marks a channel as changed with `notify(session, channel, event)`; the signal leaves
only when that transaction commits, so a page never refreshes to state that was rolled back.
Delivery is in-process by default. With `AFTERSALES_LIVE_REDIS_URL` set, signals go through Redis
pub/sub, so several web processes and the worker reach every open page. Without Redis, signals
raised in the worker process do not reach the web process; live pages therefore also refresh on
a slow tick (see `stream`), which bounds how stale a page can be.

Signals carry no data a viewer might not be allowed to see: the page re-reads its fragment through
the normal, scoped route when it hears one. Each signal also names its audience (platform staff,
merchants, customers, single users), and a subscriber hears only the signals whose audience admits
it, so a merchant on the shared desk stream does not even learn when another merchant's ticket moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from aftersales.kit.access import MERCHANT_SCOPED, Principal, Role

log = structlog.get_logger(__name__)

REDIS_PREFIX = "aftersales:live:"
_PENDING = "live_signals"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may hear a signal: platform staff (agents, supervisors, arbitrators, admins), the
    merchants, customers and single users named."""

    staff: bool = True
    merchant_ids: frozenset[int] = frozenset()
    customer_ids: frozenset[int] = frozenset()
    user_ids: frozenset[int] = frozenset()

    @classmethod
    def of(
        cls, *, merchant_id: int | None = None, customer_id: int | None = None, user_id: int | None = None
    ) -> Audience:
        """Staff, plus whichever of one merchant, one customer and one user are given."""
        return cls(
            merchant_ids=frozenset({merchant_id} if merchant_id is not None else ()),
            customer_ids=frozenset({customer_id} if customer_id is not None else ()),
            user_ids=frozenset({user_id} if user_id is not None else ()),
        )

    def admits(self, viewer: Principal | None) -> bool:
        """None is the process itself (a worker, a test): it hears everything."""
        if viewer is None or viewer.user_id in self.user_ids:
            return True
        if viewer.is_platform_staff:
            return self.staff
        if viewer.role is Role.CUSTOMER:
            return viewer.customer_id is not None and viewer.customer_id in self.customer_ids
        if viewer.role in MERCHANT_SCOPED:
            return viewer.merchant_id is not None and viewer.merchant_id in self.merchant_ids
        return False

    def to_json(self) -> dict[str, Any]:
        return {
            "staff": self.staff,
            "merchants": sorted(self.merchant_ids),
            "customers": sorted(self.customer_ids),
            "users": sorted(self.user_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            staff=bool(data.get("staff", True)),
            merchant_ids=frozenset(int(i) for i in data.get("merchants", [])),
            customer_ids=frozenset(int(i) for i in data.get("customers", [])),
            user_ids=frozenset(int(i) for i in data.get("users", [])),
        )


STAFF = Audience()


@dataclass
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    viewer: Principal | None = None


@dataclass
class Hub:
    """Channel → subscribers in this process; optionally fed by a Redis pub/sub listener."""

    redis_url: str = ""
    _subs: dict[str, list[_Subscriber]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _redis: Any = None
    _listener: threading.Thread | None = None

    def publish(self, channel: str, event_name: str, audience: Audience = STAFF) -> None:
        """Thread-safe; callable from sync service code and from the worker."""
        if self.redis_url:
            try:
                message = json.dumps({"event": event_name, "audience": audience.to_json()})
                self._client().publish(REDIS_PREFIX + channel, message)
                return
            except Exception as exc:  # a lost live signal must never fail the caller
                log.warning("live.redis_publish_failed", channel=channel, error=str(exc))
        self._dispatch(channel, event_name, audience)

    def _dispatch(self, channel: str, event_name: str, audience: Audience) -> None:
        with self._lock:
            subscribers = [sub for sub in self._subs.get(channel, ()) if audience.admits(sub.viewer)]
        for sub in subscribers:
            with contextlib.suppress(RuntimeError):  # the page's loop has closed
                sub.loop.call_soon_threadsafe(sub.queue.put_nowait, event_name)

    @contextlib.contextmanager
    def listen(self, *channels: str, viewer: Principal | None = None) -> Iterator[asyncio.Queue[str]]:
        """A queue that receives the event names published on `channels` while the block runs,
        those whose audience admits `viewer`. Must be entered inside the event loop that reads it."""
        if self.redis_url:
            self._ensure_listener()
        sub = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(maxsize=100), viewer)
        with self._lock:
            for channel in channels:
                self._subs.setdefault(channel, []).append(sub)
        try:
            yield sub.queue
        finally:
            with self._lock:
                for channel in channels:
                    listeners = self._subs.get(channel, [])
                    if sub in listeners:
                        listeners.remove(sub)
                    if not listeners:
                        self._subs.pop(channel, None)

    async def subscribe(self, *channels: str, viewer: Principal | None = None) -> AsyncGenerator[str, None]:
        """Yield event names published on any of `channels` until the caller stops iterating."""
        with self.listen(*channels, viewer=viewer) as queue:
            while True:
                yield await queue.get()

    def subscriber_count(self, channel: str) -> int:
        with self._lock:
            return len(self._subs.get(channel, ()))

    def _client(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(target=self._listen, name="live-redis", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        import redis

        while True:
            try:
                client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(REDIS_PREFIX + "*")
                for message in pubsub.listen():
                    channel = message["channel"].decode()[len(REDIS_PREFIX) :]
                    self._dispatch(channel, *_decode(message["data"].decode()))
            except Exception as exc:  # keep listening after Redis restarts
                log.warning("live.redis_listener_failed", error=str(exc))
                threading.Event().wait(2.0)


def _decode(data: str) -> tuple[str, Audience]:
    """A signal from Redis; one without an audience (an older process) is for staff only."""
    try:
        parsed = json.loads(data)
        return str(parsed["event"]), Audience.from_json(parsed.get("audience") or {})
    except (ValueError, KeyError, TypeError):
        return data, STAFF


_hub = Hub()


def configure(redis_url: str) -> None:
    """Called once at start-up by the web app and the worker."""
    global _hub
    if redis_url != _hub.redis_url:
        _hub = Hub(redis_url=redis_url)


def hub() -> Hub:
    return _hub


def user_channel(user_id: int) -> str:
    """One person's own channel (a supervisor's alerts): any context may signal it, any page of
    theirs may listen, without the two knowing each other."""
    return f"user:{user_id}"


def notify(session: Session, channel: str, event_name: str = "changed", *, audience: Audience) -> None:
    """Signal `channel` to `audience` once the session's transaction commits (dropped on rollback)."""
    pending: set[tuple[str, str, Audience]] = session.info.setdefault(_PENDING, set())
    pending.add((channel, event_name, audience))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending: set[tuple[str, str, Audience]] = session.info.pop(_PENDING, set())
    for channel, event_name, audience in sorted(pending, key=lambda p: (p[0], p[1], repr(p[2]))):
        _hub.publish(channel, event_name, audience)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def sse_frame(event_name: str, data: dict[str, Any] | str = "") -> str:
    """One Server-Sent Events frame; htmx's SSE extension triggers `sse:<event_name>`."""
    body = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    lines = "".join(f"data: {line}\n" for line in (body.splitlines() or [""]))
    return f"event: {event_name}\n{lines}\n"


async def stream(*channels: str, viewer: Principal | None, tick_seconds: float = 15.0) -> AsyncIterator[str]:
    """SSE frames for `channels`: each signal as its own event, and a `tick` event when nothing
    happened for `tick_seconds` (keeps proxies from closing the stream and refreshes pages whose
    changes came from a process we cannot hear)."""
    yield sse_frame("ready")
    with _hub.listen(*channels, viewer=viewer) as queue:
        while True:
            try:
                # Waiting on the queue (not on a generator) so a timeout cancels nothing that matters.
                name = await asyncio.wait_for(queue.get(), timeout=tick_seconds)
            except TimeoutError:
                name = "tick"
            yield sse_frame(name)
