"""`make run` starts the worker, the mail gateway and the web server with scripts/run.sh; Ctrl+C
(SIGINT to the whole foreground process group, as a terminal sends it) stops all three cleanly:
nothing is left running and no shell crashes ("Segmentation fault" came from a trap that killed
its own group again and again)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
STARTUP_S = 120.0  # patience on a busy machine, not a timing assertion


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def group_members(pgid: int) -> str:
    return subprocess.run(["ps", "-o", "pid=,args=", "-g", str(pgid)], capture_output=True, text=True).stdout.strip()


@pytest.mark.slow
def test_ctrl_c_stops_worker_mail_gateway_and_server(database_url: str) -> None:
    port, queue = free_port(), Path(tempfile.mkdtemp()) / "queue.db"
    env = {
        **os.environ,
        "BIN": str(Path(sys.executable).parent),
        "PORT": str(port),
        "MAIL_PORT": str(free_port()),
        "AFTERSALES_DATABASE_URL": database_url,
        "AFTERSALES_QUEUE_URL": f"sqlite:///{queue}",
        "AFTERSALES_QUEUE_IMMEDIATE": "false",
        "AFTERSALES_WORKER_METRICS_PORT": "0",
        "PYTHONPATH": str(ROOT / "src"),
    }
    run = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                assert run.poll() is None, run.communicate()[0].decode(errors="replace")[-2000:]
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.5)
        assert len(group_members(run.pid).splitlines()) == 4  # the script and its three processes
        os.killpg(run.pid, signal.SIGINT)
        output = run.communicate(timeout=60)[0].decode(errors="replace")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode in (0, 130), output[-2000:]
    assert "Segmentation fault" not in output
    assert group_members(run.pid) == "", "a process outlived Ctrl+C"
