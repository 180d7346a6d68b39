"""Intake over HTTP: wrk drives real writes at a real `aftersales serve` (with its worker) on a fresh
database, and the same load drives bench/bare_limit.py, the stack's ceiling.

A scenario is one kind of write. Adding one is a few lines in SCENARIOS: the method, the path and
a JSON body in which %ORDER% becomes one of the seeded delivered orders (round robin, so no order
runs out of returnable units) and %KEY% a key unique to the request.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness

ORDER_PREFIX = "BN"


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    method: str
    path: str
    body: str
    headers: dict[str, str] = field(default_factory=lambda: {"Idempotency-Key": "%KEY%"})


SCENARIOS = [
    Scenario(
        "cases",
        "submit a case",
        "POST",
        "/api/v1/cases",
        '{"order_number": "%ORDER%", "kind": "return_refund", "reason": "defect", '
        '"lines": [{"line_no": 1, "quantity": 1}]}',
    ),
    Scenario(
        "tickets",
        "open a ticket (classified, prioritised, SLA clocks, routed)",
        "POST",
        "/api/v1/tickets",
        # ASCII only: the body travels inside a Lua string literal.
        '{"order_number": "%ORDER%", "channel": "api", "subject": "Parcel crushed", '
        '"body": "The box arrived crushed and the glass inside is broken %KEY%"}',
    ),
]

# The same body shape for the bare endpoint: validated, one row inserted.
BARE = Scenario("bare", "bare FastAPI + one SQLite insert", "POST", "/items", SCENARIOS[0].body)


def lua(scenario: Scenario, *, token: str, orders: int, threads: int) -> str:
    """A wrk script: each thread walks the orders round robin with its own keys."""
    headers = {"Content-Type": "application/json", **scenario.headers}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    header_lines = "\n".join(f"  h[{json.dumps(k)}] = fill({json.dumps(v)})" for k, v in headers.items())
    return f"""
local run_id = "{uuid.uuid4().hex[:8]}"
local orders, nthreads, prefix = {orders}, {threads}, "{ORDER_PREFIX}"
local body_template, path_template = {json.dumps(scenario.body)}, {json.dumps(scenario.path)}
local counter = 0
local order, key = "", ""

local function fill(text)
  return (text:gsub("%%ORDER%%", order):gsub("%%KEY%%", key))
end

request = function()
  counter = counter + 1
  order = string.format("%s%05d", prefix, (counter * nthreads + tid) % orders)
  key = string.format("%s-%d-%d", run_id, tid, counter)
  local h = {{}}
{header_lines}
  return wrk.format("{scenario.method}", fill(path_template), h, fill(body_template))
end
"""


def seed(env: dict[str, str], workdir: Path, orders: int, quantity: int) -> str:
    """Migrate, seed the orders, make an admin token; returns the token."""
    harness.run([harness.AFTERSALES, "migrate"], env, workdir)
    harness.run_python(
        f"from bench.seed_shop import intake_orders; intake_orders({ORDER_PREFIX!r}, {orders}, {quantity})",
        env,
        workdir,
    )
    out = harness.run_python("from bench.seed_shop import token; token('bench-admin')", env, workdir)
    return str(json.loads(out.strip().splitlines()[-1])["token"])


def run_database(kind: str, *, seconds: int, connections: int, orders: int, quantity: int) -> dict[str, Any]:
    """Every scenario against a fresh database of `kind`; the figures per scenario."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=f"aftersales-bench-{kind}-") as tmp:
        workdir = Path(tmp)
        with harness.fresh_database(kind, workdir) as url:
            env = harness.child_env(url, workdir)
            harness.log(f"{kind}: migrating and seeding {orders} orders")
            token = seed(env, workdir, orders, quantity)
            with harness.serving(env, workdir) as live:
                for scenario in SCENARIOS:
                    harness.log(f"{kind}: {scenario.name} for {seconds} s at {connections} connections")
                    script = lua(scenario, token=token, orders=orders, threads=2)
                    # A short warm-up (imports, pools, caches) that is not counted.
                    harness.wrk(live.url, script, seconds=3, connections=connections)
                    with harness.RssSampler(live.pid) as rss:
                        figures = harness.wrk(live.url, script, seconds=seconds, connections=connections)
                    figures["rss_peak_mb"] = rss.peak_mb
                    figures["rss_end_mb"] = rss.rss() / 2**20
                    results[scenario.name] = figures
                    harness.log(f"{kind}: {scenario.name}: {figures['rate']:.0f} req/s, p99 {figures['p99_ms']:.0f} ms")
    return results


def run_bare(*, seconds: int, connections: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aftersales-bench-bare-") as tmp, harness.bare_limit(Path(tmp)) as live:
        script = lua(BARE, token="", orders=1000, threads=2)
        harness.wrk(live.url, script, seconds=3, connections=connections)
        with harness.RssSampler(live.pid) as rss:
            figures = harness.wrk(live.url, script, seconds=seconds, connections=connections)
        figures["rss_peak_mb"] = rss.peak_mb
        figures["rss_end_mb"] = rss.rss() / 2**20
    harness.log(f"bare limit: {figures['rate']:.0f} req/s, p99 {figures['p99_ms']:.1f} ms")
    return figures


def section(
    results: dict[str, Any], bare: dict[str, Any] | None, *, seconds: int, connections: int, command: str
) -> str:
    rows: list[tuple[str, ...]] = []
    for kind, scenarios in results.items():
        for name, f in scenarios.items():
            ratio = f"{f['rate'] / bare['rate'] * 100:.0f} %" if bare and bare["rate"] else "n/a"
            rows.append(
                (
                    f"{name} on {kind}",
                    f"{f['rate']:,.0f}",
                    f"{f['p50_ms']:.1f}",
                    f"{f['p99_ms']:.1f}",
                    f"{f['rss_peak_mb']:.0f}",
                    f"{f['errors']} / {f['requests']:,}",
                    ratio,
                )
            )
    if bare:
        rows.append(
            (
                "bare limit (FastAPI + 1 SQLite insert)",
                f"{bare['rate']:,.0f}",
                f"{bare['p50_ms']:.1f}",
                f"{bare['p99_ms']:.1f}",
                f"{bare['rss_peak_mb']:.0f}",
                f"{bare['errors']} / {bare['requests']:,}",
                "100 %",
            )
        )
    header = ("load", "requests/s", "p50 ms", "p99 ms", "server RSS peak MB", "errors / requests", "of the limit")
    answers = [
        f"{name} on {kind}: "
        + ", ".join(f"{n:,} × {code}" for code, n in sorted(f.get("statuses", {}).items()))
        + (f" (first error: `{f['first_error'][:160]}`)" if f.get("first_error") else "")
        for kind, scenarios in results.items()
        for name, f in scenarios.items()
    ]
    scenarios = "; ".join(f"{s.name}: {s.label} ({s.method} {s.path})" for s in SCENARIOS)
    return (
        f"- command: `{command}`\n"
        f"- load: wrk, 2 threads, {connections} connections, {seconds} s per scenario after a 3 s warm-up, "
        f"on 127.0.0.1; the server is one `aftersales serve` process with `aftersales worker` beside it, "
        f"on a fresh database with {ORDER_PREFIX}* delivered orders seeded through the services\n"
        f"- scenarios: {scenarios}\n"
        "- the limit: bench/bare_limit.py, one FastAPI endpoint that validates the same body and does one "
        "SQLite insert and commit, under the same uvicorn; 'of the limit' is our rate divided by its rate\n"
        "- RSS: resident memory of the server process, sampled every 0.5 s during the run\n"
        + (
            ""
            if "postgresql" in results
            else "- PostgreSQL: not measured in this run (skipped, or no server answered)\n"
        )
        + "\n"
        + harness.table(rows, header)
        + "\nAnswers by status: "
        + "; ".join(answers)
        + ".\n"
    )
