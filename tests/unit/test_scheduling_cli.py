"""`aftersales staffing` as a real process: one JSON object on stdout, a sentence and exit 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", "from aftersales.cli import app; app()", "staffing", *args],
                          capture_output=True, text=True, timeout=60, env=env, check=False)  # fmt: skip


def test_the_test_vector_from_the_command_line() -> None:
    done = _run("--calls", "100", "--interval-minutes", "30", "--handle-seconds", "180", "--answer-within", "20",
                "--target", "0.8", "--shrinkage", "0.3", "--max-occupancy", "0.85")  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["agents"] == 14 and out["rostered"] == 20
    assert out["service_level"] == 0.888 and out["asa_seconds"] == 7.8
    assert out["model"] == "erlang_c" and out["abandon_rate"] == 0.0
    assert set(out) >= {"agents", "rostered", "service_level", "asa_seconds", "occupancy", "abandon_rate", "model"}


def test_patience_switches_to_erlang_a_and_chats_shrink_the_work() -> None:
    done = _run(
        "--calls", "100", "--handle-seconds", "480", "--answer-within", "30", "--patience", "180", "--chats", "3"
    )
    out = json.loads(done.stdout)
    assert out["model"] == "erlang_a" and 0 < out["abandon_rate"] < 0.1
    single = json.loads(
        _run("--calls", "100", "--handle-seconds", "480", "--answer-within", "30", "--patience", "180").stdout
    )
    assert out["agents"] < single["agents"]


def test_bad_input_says_what_is_wrong_and_fails() -> None:
    for args, words in [
        (("--calls", "-5"), "calls must be at least 0"),
        (("--calls", "10", "--target", "80"), "target must be"),
        (("--calls", "10", "--chats", "7"), "Chats at once must be 1 to 5"),
        (("--calls", "10", "--handle-seconds", "0"), "handling time must be more than 0"),
    ]:
        done = _run(*args)
        assert done.returncode == 2, args
        assert words in done.stderr and not done.stdout
        assert "Traceback" not in done.stderr
