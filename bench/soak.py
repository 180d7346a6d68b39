"""The soak: minutes of a realistic mix at half the measured capacity against the demo shop.

    python bench/soak.py                  # 10 minutes (make soak)
    python bench/soak.py --minutes 2      # a short proof
    python bench/soak.py --rate 40        # a fixed rate instead of half the measured capacity

A fresh SQLite database is seeded by `aftersales demo`, plus delivered orders to submit cases on;
`aftersales serve` and `aftersales worker` run on 127.0.0.1. The mix (wrk, one Lua script):
agents opening order pages and searching orders with a signed-in session, integrations reading
orders, cases and help articles through the API with a token, and case submissions.

Capacity: the same mix unthrottled for 20 s first (unless --rate); the soak then paces wrk's
connections to half of it. Zero errors are expected (the exit code says so); the server's RSS is
sampled every 10 s and its growth written to docs/benchmarks.md and bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aftersales.demo.seed import DEMO_PASSWORD
from bench import harness, intake

CONNECTIONS = 8

# (weight, method, path, body): %ORDER% a demo order, %CASEORDER% a returnable order, %KEY% unique.
MIX: list[tuple[int, str, str, str, str]] = [
    (35, "agent opens an order page", "GET", "/orders/%ORDER%", ""),
    (10, "agent searches an order number", "GET", "/orders?q=%ORDER%", ""),
    (5, "agent searches a name", "GET", "/orders?q=%E6%9D%8E", ""),
    (5, "agent opens the case list", "GET", "/cases", ""),
    (15, "API order read", "GET", "/api/v1/orders/%ORDER%", ""),
    (10, "API case list", "GET", "/api/v1/cases?page=1", ""),
    (5, "API help search", "GET", "/api/v1/knowledge/search?q=%E9%80%80%E8%B4%A7", ""),
    (
        15,
        "API case submission",
        "POST",
        "/api/v1/cases",
        '{"order_number": "%CASEORDER%", "kind": "return_refund", "reason": "defect", '
        '"lines": [{"line_no": 1, "quantity": 1}]}',
    ),
]


def session_cookie(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/login", timeout=30) as answer:
        token = re.search(r'name="csrf-token" content="([^"]+)"', answer.read().decode())
    assert token, "no CSRF token on the login page"
    data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token.group(1)}).encode()
    with opener.open(urllib.request.Request(f"{base}/login", data=data), timeout=30) as answer:  # noqa: S310
        assert answer.status == 200
    cookies = {c.name: c.value for c in jar}
    return f"aftersales_session={cookies['aftersales_session']}"


def warm_up(base: str, cookie: str, token: str, order: str) -> None:
    """One request of each kind first: some load on first use (the help search's word index takes
    seconds), and that start-up cost is not what the soak measures."""
    for _, _label, method, path, _body in MIX:
        if method != "GET":
            continue
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {"Cookie": cookie}
        request = urllib.request.Request(base + path.replace("%ORDER%", order), headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - our server on 127.0.0.1
            assert answer.status == 200, (path, answer.status)


def mix_lua(*, cookie: str, token: str, orders: list[str], case_orders: int, delay_ms: float) -> str:
    slots = [i for i, (weight, *_) in enumerate(MIX) for _ in range(weight)]
    entries = ",\n".join(
        f"  {{method = {json.dumps(m)}, path = {json.dumps(p)}, body = {json.dumps(b)}}}" for _, _, m, p, b in MIX
    )
    return f"""
local run_id = "{uuid.uuid4().hex[:8]}"
local mix = {{
{entries}
}}
local slots = {{{", ".join(str(s + 1) for s in slots)}}}
local orders = {{{", ".join(json.dumps(o) for o in orders)}}}
local case_orders, prefix = {case_orders}, "{intake.ORDER_PREFIX}"
local counter = 0

init = function(args)
  math.randomseed(tid * 7919)
end

delay = function()
  return {delay_ms:.0f}
end

request = function()
  counter = counter + 1
  local entry = mix[slots[math.random(#slots)]]
  local order = orders[math.random(#orders)]
  local case_order = string.format("%s%05d", prefix, (counter * 97 + tid) % case_orders)
  local key = string.format("%s-%d-%d", run_id, tid, counter)
  local function fill(text)
    return (text:gsub("%%ORDER%%", order):gsub("%%CASEORDER%%", case_order):gsub("%%KEY%%", key))
  end
  local h = {{}}
  if entry.path:sub(1, 5) == "/api/" then
    h["Authorization"] = "Bearer {token}"
  else
    h["Cookie"] = "{cookie}"
  end
  if entry.method == "POST" then
    h["Content-Type"] = "application/json"
    h["Idempotency-Key"] = key
    return wrk.format("POST", fill(entry.path), h, fill(entry.body))
  end
  return wrk.format("GET", fill(entry.path), h)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, help="requests/s to hold (default: half the measured capacity)")
    parser.add_argument("--demo-orders", type=int, default=3000)
    args = parser.parse_args()
    harness.ensure_wrk()
    seconds = int(args.minutes * 60)
    with tempfile.TemporaryDirectory(prefix="aftersales-soak-") as tmp:
        workdir = Path(tmp)
        with harness.fresh_database("sqlite", workdir) as url:
            env = harness.child_env(url, workdir)
            harness.log(f"seeding the demo shop ({args.demo_orders} orders) and returnable orders")
            harness.run([harness.AFTERSALES, "migrate"], env, workdir)
            harness.run([harness.AFTERSALES, "demo", "--orders", str(args.demo_orders)], env, workdir)
            case_orders = 200
            token = intake.seed(env, workdir, case_orders, 1000)
            numbers = json.loads(
                harness.run_python("from bench.seed_shop import order_numbers; order_numbers(300)", env, workdir)
                .strip()
                .splitlines()[-1]
            )
            demo_numbers = [n for n in numbers if not n.startswith(intake.ORDER_PREFIX)]
            with harness.serving(env, workdir) as live:
                cookie = session_cookie(live.url, "agent1", DEMO_PASSWORD)

                def script(delay_ms: float) -> str:
                    return mix_lua(
                        cookie=cookie, token=token, orders=demo_numbers, case_orders=case_orders, delay_ms=delay_ms
                    )

                warm_up(live.url, cookie, token, demo_numbers[0])
                if args.rate:
                    target, capacity = args.rate, None
                    latency_ms = 0.0
                else:
                    harness.log("measuring the mix's capacity (20 s, unthrottled)")
                    probe = harness.wrk(live.url, script(0), seconds=20, connections=CONNECTIONS)
                    if probe["errors"]:
                        raise SystemExit(f"the capacity run already had errors: {probe}")
                    capacity, target, latency_ms = probe["rate"], probe["rate"] / 2, probe["p50_ms"]
                # Each connection sends, waits for the answer, then waits delay_ms: C / (delay + latency)
                # requests per second. Latency at full load overstates it at half load, so one 15 s
                # calibration run at the first guess measures the latency the soak will see.
                delay_ms = max(0.0, CONNECTIONS * 1000 / target - latency_ms / 2)
                calibration = harness.wrk(live.url, script(delay_ms), seconds=15, connections=CONNECTIONS)
                per_request_ms = CONNECTIONS * 1000 / calibration["rate"] - delay_ms
                delay_ms = max(0.0, CONNECTIONS * 1000 / target - per_request_ms)
                harness.log(f"soak: {args.minutes:g} min at ~{target:.1f} req/s ({CONNECTIONS} connections)")
                with harness.RssSampler(live.pid, every=10) as rss:
                    figures = harness.wrk(live.url, script(delay_ms), seconds=seconds, connections=CONNECTIONS)
                failures = live.log_path.read_text(errors="replace").count("request.failed")
    samples = rss.samples
    start_mb, end_mb = samples[0][1] / 2**20, samples[-1][1] / 2**20
    peak_mb = max(s for _, s in samples) / 2**20
    result: dict[str, Any] = {
        "date": harness.today(),
        "machine": harness.machine(),
        "commit": harness.commit(),
        "minutes": args.minutes,
        "capacity": capacity,
        "target_rate": target,
        "achieved_rate": figures["rate"],
        "requests": figures["requests"],
        "errors": figures["errors"],
        "server_tracebacks": failures,
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "rss_start_mb": start_mb,
        "rss_end_mb": end_mb,
        "rss_peak_mb": peak_mb,
        "rss_samples_mb": [(round(t), round(s / 2**20, 1)) for t, s in samples],
    }
    harness.Record.save(result, "soak")
    harness.write_sections({"Soak": section(result, " ".join(["python bench/soak.py", *sys.argv[1:]]).strip())})
    from bench.run import refresh_summary

    refresh_summary()
    harness.log(
        f"soak: {figures['requests']:,} requests, {figures['errors']} errors, RSS {start_mb:.0f} → {end_mb:.0f} MB"
    )
    if figures["errors"] or failures:
        raise SystemExit(f"the soak saw {figures['errors']} errors and {failures} server tracebacks")


def section(r: dict[str, Any], command: str) -> str:
    capacity = f"{r['capacity']:.1f} req/s measured unthrottled" if r["capacity"] else "not measured (--rate given)"
    per_minute = [(t, mb) for t, mb in r["rss_samples_mb"] if t % 60 < 10] or r["rss_samples_mb"]
    mix = ", ".join(f"{weight} % {label}" for weight, label, *_ in MIX)
    rows = [
        ("date / commit", f"{r['date']} / {r['commit']}"),
        ("machine", r["machine"]),
        ("duration", f"{r['minutes']:g} min"),
        ("capacity of the mix", capacity),
        ("target / achieved rate", f"{r['target_rate']:.1f} / {r['achieved_rate']:.1f} req/s"),
        ("requests / errors", f"{r['requests']:,} / {r['errors']}"),
        ("server tracebacks in the log", str(r["server_tracebacks"])),
        ("latency p50 / p99", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms"),
        (
            "server RSS start → end (peak)",
            f"{r['rss_start_mb']:.0f} → {r['rss_end_mb']:.0f} MB ({r['rss_peak_mb']:.0f}); "
            f"growth {r['rss_end_mb'] - r['rss_start_mb']:+.0f} MB",
        ),
    ]
    return (
        f"- command: `{command}` (`make soak` runs 10 minutes)\n"
        f"- data: `aftersales demo` plus 200 returnable orders; SQLite; server and worker on 127.0.0.1\n"
        f"- mix (wrk, {CONNECTIONS} connections, paced): {mix}\n\n"
        + harness.table(rows, ("", ""))
        + "\nServer RSS over time (MB):\n\n"
        + harness.table([(f"{t} s", f"{mb:.0f}") for t, mb in per_minute], ("time", "RSS MB"))
    )


if __name__ == "__main__":
    main()
