"""Browser-test fixtures: a real `aftersales serve` process over a freshly migrated and seeded database,
and a headless Debian Chromium driven by Playwright.

AFTERSALES_TEST_DB=sqlite|postgresql picks the database (as for the rest of the suite);
AFTERSALES_TEST_PG_URL names the PostgreSQL server; AFTERSALES_CHROMIUM overrides the browser path;
AFTERSALES_UPDATE_SCREENSHOTS=1 also rewrites the README screenshots under docs/images/;
AFTERSALES_JOURNEY_SHOTS=<dir> also keeps each role journey's steps there, with journeys.json, from
which scripts/journeys_doc.py writes docs/journeys.md (`make journeys`);
AFTERSALES_E2E_URL=http://… walks the journeys against a server already running (seeded as below),
instead of starting one: quicker while writing a journey.

Next to the server runs `aftersales worker` (outbox delivery, refunds through the simulated
gateway, confirmed after AFTERSALES_REFUND_GATEWAY_CONFIRM_DELAY_SECONDS), and the demo shop gets
one extra order made for the after-sales journey (JOURNEY_ORDER).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "artifacts" / "screenshots"
DOCS_IMAGES_DIR = REPO_ROOT / "docs" / "images"
BIN_DIR = Path(sys.executable).parent
AFTERSALES = str(BIN_DIR / "aftersales")

DB_KIND = os.environ.get("AFTERSALES_TEST_DB", "sqlite")
PG_URL = os.environ.get("AFTERSALES_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHROMIUM = os.environ.get("AFTERSALES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UPDATE_SCREENSHOTS = os.environ.get("AFTERSALES_UPDATE_SCREENSHOTS") == "1"
JOURNEY_SHOTS = os.environ.get("AFTERSALES_JOURNEY_SHOTS", "")
RUNNING_SERVER = os.environ.get("AFTERSALES_E2E_URL", "")
# Walked again on a running server, a journey's own orders need new numbers.
RUN_TAG = f"-{uuid.uuid4().hex[:4].upper()}" if RUNNING_SERVER else ""
# Journey screenshots are committed: JPEG of the viewport keeps them small and still readable.
JOURNEY_SHOT_QUALITY = 72

STARTUP_TIMEOUT_S = 120.0  # on a busy machine (parallel suites) the first start takes well over 30 s
SETUP_COMMAND_TIMEOUT_S = 600.0  # the demo now lives its 60 days: minutes on a busy machine
STOP_TIMEOUT_S = 10.0

DEFAULT_VIEWPORT = {"width": 1280, "height": 900}

# The after-sales journey's own order, added after the demo: the demo customer's (李娜, C0001)
# Anker charger from the self-operated shop, delivered yesterday. The demo seeds one order fewer,
# so the journeys still count the 80 orders they always saw.
JOURNEY_ORDER = "SO-E2E-RETURN"
# The warehouse's journey: an order paid and waiting to ship (2 units), reported out of stock.
STOCK_ORDER = "SO-E2E-STOCK"
DEMO_ORDERS = 79


@dataclass(frozen=True)
class LiveServer:
    url: str
    log_path: Path
    worker_log_path: Path | None = None

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        """What the server logged after `offset` (from log_size()): tracebacks of failed requests."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env(database_url: str, tmp: Path) -> dict[str, str]:
    """An explicit environment: nothing AFTERSALES_* leaks in from the test session (queue immediate etc.)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update(
        {
            "AFTERSALES_DATABASE_URL": database_url,
            "AFTERSALES_QUEUE_URL": f"sqlite:///{tmp / 'queue.db'}",
            "AFTERSALES_SECRET_KEY": f"e2e-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "AFTERSALES_ENV": "test",
            "AFTERSALES_LOG_JSON": "false",
            "AFTERSALES_LOG_LEVEL": "WARNING",
            "AFTERSALES_REFUND_GATEWAY_CONFIRM_DELAY_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def create_journey_order() -> None:
    """Runs in a child process with the server's environment (see live_server): the journey's
    order, sent through the orders service as the shop's order feed and the carrier would."""
    from datetime import timedelta
    from decimal import Decimal

    from aftersales.config import get_settings
    from aftersales.db.uow import Database
    from aftersales.kit import clock
    from aftersales.kit.access import Principal, Role
    from aftersales.orders import service as orders
    from aftersales.orders.domain import CustomerTier, LogisticsNode, OrderStatus
    from aftersales.orders.schemas import (
        AddressIn,
        CustomerIn,
        LogisticsEventIn,
        OrderIn,
        OrderLineIn,
        PaymentIn,
        ShipmentIn,
    )

    db = Database(get_settings().database_url)
    feed = Principal(user_id=0, username="e2e-feed", role=Role.INTEGRATION, display_name="订单系统")
    now, price, tracking = clock.now(), Decimal("199.00"), "JD900000000001"
    placed, delivered = now - timedelta(days=4), now - timedelta(days=1)
    lina = CustomerIn(
        external_id="C0001", name="李娜", phone="13800138001", email="lina@example.com", tier=CustomerTier.VIP
    )
    order = OrderIn(
        number=JOURNEY_ORDER,
        version=1,
        updated_at=placed + timedelta(hours=2),
        merchant_code="selfop",
        status=OrderStatus.FULFILLING,
        placed_at=placed,
        paid_at=placed + timedelta(minutes=3),
        customer=lina,
        shipping_address=AddressIn(
            name="李娜", phone="13800138001", region="上海市 浦东新区", detail="世纪大道 100 号"
        ),
        lines=[OrderLineIn(line_no=1, sku="AK-65W", quantity=1, unit_price=price)],
        payments=[
            PaymentIn(
                reference=f"PAY{JOURNEY_ORDER}", method="alipay", amount=price, paid_at=placed + timedelta(minutes=3)
            )
        ],
        shipments=[ShipmentIn(carrier="JD", tracking_number=tracking, promised_at=delivered + timedelta(hours=6))],
    )
    orders.upsert_order(db, order, feed)
    waiting = OrderIn(
        number=STOCK_ORDER,
        version=1,
        updated_at=now - timedelta(hours=2),
        merchant_code="selfop",
        status=OrderStatus.FULFILLING,
        placed_at=now - timedelta(hours=3),
        paid_at=now - timedelta(hours=3),
        customer=CustomerIn(external_id="C9001", name="王芳", phone="13900139001", email="wangfang@example.com"),
        shipping_address=AddressIn(name="王芳", phone="13900139001", region="杭州市 西湖区", detail="文三路 9 号"),
        lines=[OrderLineIn(line_no=1, sku="AK-65W", quantity=2, unit_price=price)],
        payments=[
            PaymentIn(
                reference=f"PAY{STOCK_ORDER}", method="alipay", amount=price * 2, paid_at=now - timedelta(hours=3)
            )
        ],
    )
    orders.upsert_order(db, waiting, feed)
    scans = [
        (LogisticsNode.PICKED_UP, "仓库揽收"),
        (LogisticsNode.DEPARTED_HUB, "上海转运中心"),
        (LogisticsNode.ARRIVED_STATION, "浦东营业部"),
        (LogisticsNode.OUT_FOR_DELIVERY, "浦东营业部 快递员派送中"),
        (LogisticsNode.DELIVERED, "本人签收"),
    ]
    for n, (node, place) in enumerate(scans):
        at = delivered - timedelta(hours=12 * (len(scans) - 1 - n))
        event = LogisticsEventIn(
            event_id=f"{tracking}-{n}", carrier="JD", tracking_number=tracking, node=node, occurred_at=at, place=place
        )
        orders.record_logistics_event(db, event, feed)


def _start(args: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen([AFTERSALES, *args], env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    try:
        done = subprocess.run(
            [AFTERSALES, *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=SETUP_COMMAND_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"`aftersales {' '.join(args)}` did not finish in {SETUP_COMMAND_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"`aftersales {' '.join(args)}` exited with {done.returncode}\n"
            f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-4000:]}"
        )


def _run_python(code: str, env: dict[str, str], cwd: Path) -> None:
    """A few lines of Python with the children's environment, this checkout importable."""
    child_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SETUP_COMMAND_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`python -c {code!r}` exited with {done.returncode}\n{done.stderr[-4000:]}")


def _log_tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of our own: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if DB_KIND == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'aftersales.db'}"
        return
    if DB_KIND != "postgresql":
        raise pytest.UsageError(f"AFTERSALES_TEST_DB must be sqlite or postgresql, not {DB_KIND!r}")
    from sqlalchemy import create_engine, text

    name = f"aftersales_e2e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def live_server(e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`aftersales migrate`, `aftersales demo`, the journey's order, then `aftersales worker` and
    `aftersales serve` on a free port until the session ends."""
    tmp = tmp_path_factory.mktemp("e2e-server")
    if RUNNING_SERVER:
        log = tmp / "serve.log"
        log.touch()
        yield LiveServer(url=RUNNING_SERVER.rstrip("/"), log_path=log)
        return
    env = _child_env(e2e_database_url, tmp)
    # cwd is the temp dir, so a developer's .env in the repository cannot change the settings.
    _run(["migrate"], env, tmp)
    _run(["demo", "--orders", str(DEMO_ORDERS), "--customers", "30"], env, tmp)
    _run_python("from tests.e2e.conftest import create_journey_order; create_journey_order()", env, tmp)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path, worker_log = tmp / "serve.log", tmp / "worker.log"
    worker = _start(["worker"], env, tmp, worker_log)
    try:
        proc = _start(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp, log_path)
        try:
            _wait_healthy(url, proc, log_path)
            if worker.poll() is not None:
                raise RuntimeError(f"`aftersales worker` exited with {worker.returncode}:\n{_log_tail(worker_log)}")
            yield LiveServer(url=url, log_path=log_path, worker_log_path=worker_log)
        finally:
            _stop(proc)
    finally:
        _stop(worker)
        # Kept next to the screenshots: a failed journey's server-side traceback is in here.
        ARTIFACTS_DIR.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, ARTIFACTS_DIR.parent / f"serve-{DB_KIND}.log")
        shutil.copyfile(worker_log, ARTIFACTS_DIR.parent / f"worker-{DB_KIND}.log")


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`aftersales serve` exited with {proc.returncode}:\n{_log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = repr(exc)
        time.sleep(0.2)
    raise RuntimeError(
        f"{url}/healthz did not answer within {STARTUP_TIMEOUT_S:.0f} s ({last_error}):\n{_log_tail(log_path)}"
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/ensure-browser.sh installs it)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


CALL_OUTCOME = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_OUTCOME] = "XFAIL" if hasattr(report, "wasxfail") else report.outcome.upper()
    return report


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest, browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context (own cookies): new_page(locale="zh-CN", viewport=PHONE).

    When the test fails (or xfails), every page it opened is saved as artifacts/screenshots/FAILED-<test>-….png
    (or XFAIL-<test>-….png).
    """
    contexts: list[Any] = []

    def open_page(locale: str = "zh-CN", viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport=viewport or DEFAULT_VIEWPORT)
        contexts.append(context)
        return context.new_page()

    yield open_page
    outcome = request.node.stash.get(CALL_OUTCOME, "")
    for n, context in enumerate(contexts):
        if outcome in ("FAILED", "XFAIL"):
            for m, page in enumerate(context.pages):
                page.screenshot(path=str(screenshot_dir / f"{outcome}-{request.node.name}-{DB_KIND}-{n}{m}.png"))
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def save_screenshot(screenshot_dir: Path, journey_steps: list[dict[str, str]]) -> Callable[..., Path]:
    """Always save under artifacts/screenshots/; with readme_name, also to docs/images/ when asked to
    update; with journey (the role) and step (what the person just did), also into
    AFTERSALES_JOURNEY_SHOTS when set, as one step of that role's journey in docs/journeys.md."""

    def save(
        page: Any,
        name: str,
        *,
        readme_name: str | None = None,
        full_page: bool = True,
        journey: str | None = None,
        step: str = "",
    ) -> Path:
        path = screenshot_dir / f"{name}-{DB_KIND}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if readme_name and UPDATE_SCREENSHOTS:
            DOCS_IMAGES_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_IMAGES_DIR / readme_name), full_page=full_page)
        if journey and JOURNEY_SHOTS:
            shots = REPO_ROOT / JOURNEY_SHOTS
            shots.mkdir(parents=True, exist_ok=True)
            file = f"{name}.jpg"
            page.screenshot(path=str(shots / file), type="jpeg", quality=JOURNEY_SHOT_QUALITY)
            width = page.viewport_size["width"] if page.viewport_size else DEFAULT_VIEWPORT["width"]
            test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
            journey_steps.append({"journey": journey, "step": step, "file": file, "width": str(width), "test": test})
        return path

    return save


@pytest.fixture(scope="session")
def journey_steps() -> Iterator[list[dict[str, str]]]:
    """The journeys' steps in the order they were walked, written to journeys.json at the end."""
    steps: list[dict[str, str]] = []
    yield steps
    if JOURNEY_SHOTS and steps:
        index = REPO_ROOT / JOURNEY_SHOTS / "journeys.json"
        index.write_text(json.dumps(steps, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
