"""create_app(): settings, database, routers, static files, errors, middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from aftersales import __version__
from aftersales.analytics import web as analytics_web
from aftersales.assistant import handoff, learning_web
from aftersales.assistant import web as assistant_web
from aftersales.cases import api as cases_api
from aftersales.cases import web as cases_web
from aftersales.config import Settings, get_settings
from aftersales.db.uow import Database
from aftersales.disputes import api as disputes_api
from aftersales.disputes import web as disputes_web
from aftersales.identity import api as identity_api
from aftersales.identity import service as identity_service
from aftersales.identity import web as identity_web
from aftersales.identity.customers import CustomerDirectory
from aftersales.integrations import api as integrations_api
from aftersales.integrations import web as integrations_web
from aftersales.knowledge import api as knowledge_api
from aftersales.knowledge import web as knowledge_web
from aftersales.notifications import api as notifications_api
from aftersales.notifications import web as notifications_web
from aftersales.orders import api as orders_api
from aftersales.orders import service as orders_service
from aftersales.orders import web as orders_web
from aftersales.proactive import api as proactive_api
from aftersales.proactive import web as proactive_web
from aftersales.refunds import api as refunds_api
from aftersales.routing import web as routing_web
from aftersales.rules import api as rules_api
from aftersales.rules import web as rules_web
from aftersales.scheduling import web as scheduling_web
from aftersales.sla import web as sla_web
from aftersales.surveys import web as surveys_web
from aftersales.tickets import api as tickets_api
from aftersales.tickets import service as tickets_service
from aftersales.tickets import web as tickets_web
from aftersales.wallet import api as wallet_api
from aftersales.wallet import web as wallet_web
from aftersales.web import errors, ops
from aftersales.web.body_limit import BodyLimit
from aftersales.web.deps import PrincipalLoader, ensure_session_basics
from aftersales.web.head import HeadAsGet
from aftersales.web.headers import SecurityHeaders
from aftersales.worker import wiring

STATIC_DIR = Path(__file__).parent / "web" / "static"

API_DESCRIPTION = """
Aftersales API for integrators: the shop's order system pushes orders, carriers push logistics
events, and every read is scoped to the caller's role. Authenticate with
`Authorization: Bearer <token>` (create one with `aftersales token create --user NAME`).
Writes are idempotent: replays change nothing.
"""

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Aftersales API</title>
  <link rel="stylesheet" href="/static/vendor/swagger-ui.css">
  <link rel="icon" href="/static/favicon.svg">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/vendor/swagger-ui-bundle.js"></script>
  <script src="/static/js/swagger-init.js"></script>
</body>
</html>
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.ensure_data_dirs()
    ops.configure_logging(settings.log_json, settings.log_level)
    db = Database(settings.database_url)
    wiring.connect(settings, db)
    handoff.bind(tickets_service)  # the assistant hands conversations to the tickets desk

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="Aftersales",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(ensure_session_basics)],
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    # The ports the web shell and one context's pages need, bound to the contexts that answer them.
    principals: PrincipalLoader = identity_service
    customers: CustomerDirectory = orders_service
    app.state.principals = principals
    app.state.customer_directory = customers

    # Innermost of our middleware: its 413 is counted by the metrics and carries the session.
    app.add_middleware(
        BodyLimit,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
        upload_paths=(*cases_web.UPLOAD_PATHS, *disputes_web.UPLOAD_PATHS),
    )
    app.middleware("http")(ops.metrics_middleware)
    app.add_middleware(SecurityHeaders, https_only=settings.cookie_secure)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="aftersales_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is a GET everywhere inside
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.include_router(ops.router)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        # Served from our own static files (intranets have no CDN), started by a script file of
        # ours: the Content-Security-Policy lets no inline script run.
        return HTMLResponse(SWAGGER_PAGE)

    app.include_router(identity_api.router, prefix="/api/v1")
    app.include_router(orders_api.router, prefix="/api/v1")
    app.include_router(identity_web.router)
    app.include_router(orders_web.router)
    app.include_router(cases_api.router, prefix="/api/v1")
    app.include_router(cases_web.router)
    app.include_router(disputes_api.router, prefix="/api/v1")
    app.include_router(integrations_api.router, prefix="/api/v1")
    app.include_router(integrations_web.router)
    app.include_router(disputes_web.router)
    app.include_router(knowledge_api.router, prefix="/api/v1")
    app.include_router(knowledge_web.router)
    app.include_router(scheduling_web.router)
    app.include_router(wallet_api.router, prefix="/api/v1")
    app.include_router(wallet_web.router)
    app.include_router(proactive_api.router, prefix="/api/v1")
    app.include_router(proactive_web.router)
    app.include_router(analytics_web.router)
    app.include_router(surveys_web.router)
    app.include_router(notifications_api.router, prefix="/api/v1")
    app.include_router(notifications_web.router)
    app.include_router(refunds_api.router, prefix="/api/v1")
    app.include_router(rules_api.router, prefix="/api/v1")
    app.include_router(rules_web.router)
    app.include_router(tickets_api.router, prefix="/api/v1")
    app.include_router(tickets_web.router)
    app.include_router(sla_web.router)
    app.include_router(routing_web.router)
    app.include_router(assistant_web.router)
    app.include_router(learning_web.router)
    return app
