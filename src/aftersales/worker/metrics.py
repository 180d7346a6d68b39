"""The worker's own /metrics: the periodic scans run in the worker, so what they count (items that
failed, reviews escalated) is served by the worker process, not by the web processes."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import start_http_server

from aftersales.config import Settings

log = structlog.get_logger(__name__)


def serve(settings: Settings) -> WSGIServer | None:
    """Serve Prometheus text at http://host:port/metrics in a background thread; returns the
    server, or None when switched off (port 0) or the port is taken (another worker on this
    machine: give each its own AFTERSALES_WORKER_METRICS_PORT). Never stops the worker."""
    if settings.worker_metrics_port <= 0:
        return None
    try:
        server, _thread = start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
    except OSError as exc:
        log.warning("worker.metrics_unavailable", port=settings.worker_metrics_port, error=str(exc))
        return None
    log.info("worker.metrics", url=f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics")
    return server
