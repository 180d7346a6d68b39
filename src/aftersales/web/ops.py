"""Operations endpoints and plumbing: /healthz, /metrics, request metrics, JSON logs."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text

REQUESTS = Counter("aftersales_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "aftersales_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

router = APIRouter(tags=["operations"])
API_PREFIX = "/api/v1"


@router.get("/healthz", summary="Liveness and database reachability")
def healthz(request: Request) -> Response:
    try:
        with request.app.state.db.read() as uow:
            uow.session.execute(text("SELECT 1"))
    except Exception as exc:
        # The reason goes to the log, not to an unauthenticated caller (it may name hosts).
        structlog.get_logger(__name__).error("healthz.database_unreachable", error=str(exc)[:300])
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says: point them to ours."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def metrics_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    name = getattr(route, "path", "unmatched")
    # Routes of included routers carry their path without the router's prefix.
    if request.url.path.startswith(API_PREFIX) and not name.startswith(API_PREFIX):
        name = API_PREFIX + name
    LATENCY.labels(request.method, name).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, name, str(response.status_code)).inc()
    return response


def configure_logging(json_logs: bool, level: str) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper())
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    processors.append(structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer())
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
