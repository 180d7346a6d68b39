"""Shared plumbing of the benchmarks: fresh databases, real `aftersales serve` and `aftersales worker`
processes on 127.0.0.1, wrk as the load generator, RSS sampling, the machine's description, and
the rewriting of docs/benchmarks.md section by section.

Every process started here binds 127.0.0.1 and is stopped by the context manager that started it,
also when the benchmark fails half-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AFTERSALES = str(BIN / "aftersales")
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get("AFTERSALES_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STARTUP_S = 120.0


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- databases -----------------------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """A new empty database: a SQLite file in workdir, or a PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"aftersales_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


# --- processes -----------------------------------------------------------------------------------
def child_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """An explicit environment: no AFTERSALES_* setting leaks in from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update(
        {
            "AFTERSALES_DATABASE_URL": database_url,
            "AFTERSALES_QUEUE_URL": f"sqlite:///{workdir / 'queue.db'}",
            "AFTERSALES_SECRET_KEY": f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "AFTERSALES_REFUND_GATEWAY_CALLBACK_SECRET": f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "AFTERSALES_ENV": "production",
            "AFTERSALES_LOG_JSON": "true",
            "AFTERSALES_LOG_LEVEL": "WARNING",
            "AFTERSALES_UPLOAD_DIR": str(workdir / "uploads"),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 3600) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def run_python(code: str, env: dict[str, str], cwd: Path, timeout: float = 3600) -> str:
    """A few lines of Python in a child with the server's environment (this checkout importable)."""
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))}
    return run([sys.executable, "-c", code], env, cwd, timeout)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = STARTUP_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310 - http://127.0.0.1
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"{url} did not answer /healthz in {timeout:.0f} s:\n{log_path.read_text(errors='replace')[-3000:]}"
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@dataclass
class Live:
    url: str
    pid: int
    log_path: Path


@contextlib.contextmanager
def serving(env: dict[str, str], workdir: Path, *, worker: bool = True) -> Iterator[Live]:
    """`aftersales serve` (one process) and, by default, `aftersales worker`, until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if worker:
            with (workdir / "worker.log").open("ab") as out:
                procs.append(subprocess.Popen([AFTERSALES, "worker"], env=env, cwd=workdir, stdout=out, stderr=out))
        log_path = workdir / "serve.log"
        with log_path.open("ab") as out:
            server = subprocess.Popen(
                [AFTERSALES, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=out,
            )
        procs.append(server)
        wait_healthy(url, server, log_path)
        yield Live(url, server.pid, log_path)
    finally:
        for proc in reversed(procs):
            stop(proc)


@contextlib.contextmanager
def bare_limit(workdir: Path) -> Iterator[Live]:
    """bench/bare_limit.py under uvicorn, served the way `aftersales serve` serves."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BARE_DB": str(workdir / "bare.db"), "PYTHONPATH": str(ROOT)}
    log_path = workdir / "bare.log"
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bare_limit", "--port", str(port)], env=env, cwd=ROOT, stdout=out, stderr=out
        )
    try:
        wait_healthy(url, proc, log_path)
        yield Live(url, proc.pid, log_path)
    finally:
        stop(proc)


class RssSampler:
    """Samples a process's resident memory (with its children) every `every` seconds."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return int(total)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.samples.append((time.monotonic() - start, self.rss()))
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def peak_mb(self) -> float:
        return max((s for _, s in self.samples), default=0) / 2**20


# --- wrk -----------------------------------------------------------------------------------------
# Prepended to every script: threads numbered (`tid`), answers counted by status, the first error
# body kept. Scripts define request() (and may define init() and delay()), not setup/response/done.
WRK_PRELUDE = """
threads = {}
statuses = {}
sample = ""
tid = 0

setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 400 and sample == "" then
    sample = status .. " " .. body:sub(1, 300)
  end
end
"""

WRK_REPORT = """
local function json_string(text)
  return '"' .. text:gsub('[%c"\\\\]', function(c) return string.format("\\\\u%04x", c:byte()) end) .. '"'
end

done = function(summary, latency, requests)
  local counts, first = {}, ""
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    local seen = thread:get("sample")
    if first == "" and seen ~= "" then first = seen end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local out = io.open(os.getenv("WRK_REPORT"), "w")
  out:write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"statuses": {%s}, "first_error": %s}',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, table.concat(parts, ", "),
    json_string(first)))
  out:close()
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: installing it from apt")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed (apt-get install wrk)")
    return found


def wrk(
    url: str, script: str, *, seconds: int, connections: int, threads: int = 2, rate_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Runs wrk against url with a Lua script (our report function appended); returns the figures."""
    with tempfile.TemporaryDirectory(prefix="aftersales-wrk-") as tmp:
        script_path, report = Path(tmp) / "load.lua", Path(tmp) / "report.json"
        script_path.write_text(WRK_PRELUDE + script + WRK_REPORT)
        env = {**os.environ, "WRK_REPORT": str(report), **(rate_env or {})}
        done = subprocess.run(
            [
                ensure_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script_path),
                url,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        if done.returncode != 0 or not report.exists():
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        figures: dict[str, Any] = json.loads(report.read_text())
    figures["rate"] = figures["requests"] / figures["seconds"] if figures["seconds"] else 0.0
    figures["errors"] = sum(
        figures[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return figures


# --- the machine and the record ------------------------------------------------------------------
def machine() -> str:
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} CPUs ({model}), {memory:.1f} GiB RAM, Python {platform.python_version()}"


def commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        return f"{sha}{' (with uncommitted changes)' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class Record:
    """What one `bench/run.py` or `bench/soak.py` run found; kept as JSON next to the benchmarks."""

    figures: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def load(name: str = "last") -> dict[str, Any]:
        path = RESULTS / f"{name}.json"
        return dict(json.loads(path.read_text())) if path.exists() else {}

    @staticmethod
    def save(data: dict[str, Any], name: str = "last") -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        return path


# --- docs/benchmarks.md --------------------------------------------------------------------------
INTRO = """# Benchmarks

Speed and memory are measured here, never asserted in the test suite. `make bench` reruns every
benchmark and rewrites this file (`make soak` rewrites its own section); each section names the
command, the date, the machine and the commit it measured. What each figure proves, and how to
rerun one part alone: docs/proof.md.
"""

ORDER = [
    "Summary",
    "Intake over HTTP",
    "Where the intake's time goes",
    "SLA sweep",
    "Assistant understanding",
    "Order and case pages with 1M orders",
    "Soak",
    "Demo seeding",
]


def sections(text: str) -> dict[str, str]:
    """The '## ' sections of a Markdown file by heading (body without the heading line)."""
    found: dict[str, str] = {}
    heading: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            if heading is not None:
                found[heading] = "\n".join(lines).strip() + "\n"
            heading, lines = line[3:].strip(), []
        elif heading is not None:
            lines.append(line)
    if heading is not None:
        found[heading] = "\n".join(lines).strip() + "\n"
    return found


def write_sections(updates: dict[str, str]) -> None:
    """Replace the named sections of docs/benchmarks.md, keep the others, in a stable order."""
    current = sections(DOC.read_text()) if DOC.exists() else {}
    current.update({k: v.strip() + "\n" for k, v in updates.items()})
    names = [n for n in ORDER if n in current] + [n for n in current if n not in ORDER]
    body = "\n".join(f"## {name}\n\n{current[name]}" for name in names)
    DOC.write_text(f"{INTRO}\n{body}")


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"
