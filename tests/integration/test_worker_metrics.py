"""The worker serves its own /metrics, where the periodic scans' counters live."""

from __future__ import annotations

import socket
import urllib.request

import aftersales.cases.service  # noqa: F401  (registers the escalation counter)
from aftersales.config import Settings
from aftersales.messaging import scans
from aftersales.worker import metrics


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_worker_serves_the_scan_counters_and_survives_a_taken_port(settings: Settings) -> None:
    port = _free_port()
    configured = settings.model_copy(update={"worker_metrics_port": port})
    server = metrics.serve(configured)
    assert server is not None
    try:
        scans.ITEM_FAILURES.labels("probe").inc()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        assert 'aftersales_scan_item_failures_total{scan="probe"}' in text
        assert "aftersales_case_review_escalations_total" in text
        # A second worker on the same port keeps running without its own endpoint.
        assert metrics.serve(configured) is None
    finally:
        server.shutdown()
        server.server_close()
    assert metrics.serve(settings.model_copy(update={"worker_metrics_port": 0})) is None
