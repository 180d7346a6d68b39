"""Faults of the web process and of the database, against the real thing.

1. A real `aftersales serve` process takes a burst of concurrent case submissions and is killed
   with SIGKILL while some of them are still being written. After a restart: every case the server
   answered 201 for is there, and every case in the database is whole (its lines, a timeline entry
   per transition, an outbox message per status change, its status equal to the last transition)
   or absent; no half-written case.
2. PostgreSQL becomes unreachable (a TCP proxy we own between the app and the server is closed):
   the API answers 503 with Retry-After and a sentence, /healthz says unavailable; when the proxy
   opens again, the very next requests succeed without restarting anything.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aftersales.cases.models import Case, CaseLine
from aftersales.config import Settings
from aftersales.db.engine import get_engine
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.main import create_app
from aftersales.messaging.models import OutboxMessage
from aftersales.rules import service as rules
from aftersales.timeline.models import TimelineEvent

from ..factories import Factory
from ..http.test_cases_api import draft, put_order

pytestmark = pytest.mark.slow

AFTERSALES = str(Path(sys.executable).parent / "aftersales")
ORDERS = 30  # two units each: up to 60 cases
SUBMISSIONS = 60
IN_FLIGHT = 12  # concurrent clients
KILL_AFTER = 8  # answered submissions before the kill
STARTUP_S = 120.0  # patience on a busy machine, not a timing assertion


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """`aftersales serve` on 127.0.0.1 over the test's database; restartable, always stopped."""

    database_url: str
    tmp: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
        env.update(
            {
                "AFTERSALES_DATABASE_URL": self.database_url,
                # Outbox kicks go to a queue nobody drains: the outbox rows stay for us to count.
                "AFTERSALES_QUEUE_URL": f"sqlite:///{self.tmp / 'queue.db'}",
                "AFTERSALES_SECRET_KEY": uuid.uuid4().hex * 2,
                "AFTERSALES_ENV": "test",
                "AFTERSALES_LOG_JSON": "false",
                "AFTERSALES_LOG_LEVEL": "WARNING",
            }
        )
        self.starts += 1
        log = (self.tmp / f"serve-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [AFTERSALES, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=self.tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited:\n{self.log()}"
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve (start {self.starts}) not healthy in {STARTUP_S:.0f} s:\n{self.log()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("serve-*.log")))


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[Server]:
    live = Server(db.url, tmp_path)
    yield live
    live.stop()  # before the db fixture empties the tables


def post_json(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={**headers, "Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def get_json(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def whole_or_absent(db: Database) -> dict[str, str]:
    """Every case in the database, checked for wholeness; returns number -> status."""
    with db.read() as uow:
        session = uow.session
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        lines = Counter(session.scalars(select(CaseLine.case_id)))
        entries: dict[int, list[TimelineEvent]] = {}
        for entry in session.scalars(
            select(TimelineEvent).where(TimelineEvent.subject_type == "case").order_by(TimelineEvent.id)
        ):
            entries.setdefault(entry.subject_id, []).append(entry)
        messages = Counter(
            (m.payload["case_id"], m.payload["to"])
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "case.status_changed"))
        )
        seen: dict[str, str] = {}
        for case in cases:
            assert not case.number.startswith("tmp-"), f"case {case.id} kept its provisional number"
            assert lines[case.id] >= 1, f"{case.number} has no lines"
            mine = entries.get(case.id, [])
            assert mine, f"{case.number} has no timeline"
            changes = Counter((case.id, e.to_state) for e in mine if e.from_state != e.to_state)
            assert changes == Counter({k: v for k, v in messages.items() if k[0] == case.id}), (
                f"{case.number}: transitions {changes} but outbox {messages}"
            )
            assert mine[-1].to_state == case.status, f"{case.number}: status {case.status}, timeline {mine[-1]}"
            seen[case.number] = case.status
        return seen


def test_killing_the_web_process_mid_write_leaves_no_partial_case(
    server: Server, factory: Factory, db: Database
) -> None:
    rules.load_defaults(db)
    factory.catalogue()
    for n in range(ORDERS):
        put_order(factory, db, f"SO-W{n:02d}", customer="C1" if n % 2 else "C2", merchant="selfop")
    factory.user("kill-admin", Role.ADMIN)
    headers = {"Authorization": f"Bearer {factory.token('kill-admin')}"}
    server.start()

    answered: list[tuple[int, dict[str, Any]]] = []
    lost: list[str] = []
    refused: list[int] = []
    enough = threading.Event()
    lock = threading.Lock()

    def submit(n: int) -> None:
        body = draft(f"SO-W{n % ORDERS:02d}")
        try:
            result = post_json(f"{server.url}/api/v1/cases", body, {**headers, "Idempotency-Key": f"kill-{n}"})
        except OSError as failed:
            with lock:
                if isinstance(getattr(failed, "reason", failed), ConnectionRefusedError):
                    refused.append(n)  # sent after the kill: never reached the server
                else:
                    lost.append(repr(failed))  # cut with the server: its fate is unknown to the client
            return
        with lock:
            answered.append(result)
            if len(answered) >= KILL_AFTER:
                enough.set()

    with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
        futures = [pool.submit(submit, n) for n in range(SUBMISSIONS)]
        assert enough.wait(120), f"the server answered only {len(answered)} submissions:\n{server.log()}"
        server.kill()
        concurrent.futures.wait(futures)
    created = {body["number"] for status, body in answered if status == 201}
    assert created, f"no submission succeeded before the kill: {answered[:3]}"
    assert lost, "every request had finished before the kill: nothing was cut mid-way"
    statuses = Counter(status for status, _ in answered)
    assert set(statuses) <= {201, 409}, statuses

    # Straight after the kill, before anything repairs it: each case whole or absent.
    before_restart = whole_or_absent(db)
    assert created <= set(before_restart), f"answered 201 but missing: {created - set(before_restart)}"

    server.start()
    for number in sorted(created):
        status, body = get_json(f"{server.url}/api/v1/cases/{number}", headers)
        assert status == 200 and body["number"] == number and body["timeline"], (number, status, body)
    # The server takes new writes after the restart, and the retried cut requests (same
    # idempotency keys) make no second case.
    retried = [post_json(f"{server.url}/api/v1/cases", draft("SO-W00"), {**headers, "Idempotency-Key": "kill-0"})]
    assert retried[0][0] in (201, 409), retried
    after = whole_or_absent(db)
    assert set(before_restart) <= set(after) and len(after) - len(before_restart) <= 1
    print(
        f"answered {dict(statuses)}, cut mid-way {len(lost)}, refused after the kill {len(refused)}, "
        f"cases in the database {len(before_restart)}"
    )


# --- the database goes away and comes back -------------------------------------------------------
class Proxy:
    """A TCP forwarder on 127.0.0.1 we can close (connections refused, live ones cut) and reopen."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        assert self.listener is not None
        # Closing the socket does not wake a thread blocked in accept(); shutdown does.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.listener = None
        with self.lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def test_an_unreachable_postgresql_answers_503_and_recovers_by_itself(
    database_url: str, factory: Factory, db: Database
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a networked database only: an embedded SQLite file cannot become unreachable at run time")
    from sqlalchemy.engine import make_url

    real = make_url(database_url)
    proxy = Proxy((real.host or "127.0.0.1", real.port or 5432))
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    factory.user("ops-admin", Role.ADMIN)
    headers = {"Authorization": f"Bearer {factory.token('ops-admin')}"}
    proxy.open()
    settings = Settings(database_url=proxied, env="test", queue_immediate=True, log_json=False)
    try:
        with TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
            assert client.get("/api/v1/me", headers=headers).status_code == 200
            assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}

            proxy.close()
            for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/orders"), ("POST", "/api/v1/orders")):
                body = Factory.order_payload("SO-DOWN") if method == "POST" else None
                down = client.request(method, path, headers=headers, json=body)
                assert down.status_code == 503, (method, path, down.status_code, down.text[:300])
                assert down.headers["retry-after"] == "5" and "unavailable" in down.json()["message"]
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "unavailable"

            proxy.open()  # the database is back: no restart, the pool replaces its dead connections
            assert client.get("/healthz").status_code == 200
            assert client.get("/api/v1/me", headers=headers).json()["username"] == "ops-admin"
            factory.catalogue()
            written = client.post("/api/v1/orders", headers=headers, json=Factory.order_payload("SO-BACK"))
            assert written.status_code in (200, 201), written.text
            assert client.get("/api/v1/orders/SO-BACK", headers=headers).status_code == 200
    finally:
        get_engine(proxied).dispose()
        if proxy.listener is not None:
            proxy.close()
