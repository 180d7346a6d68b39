"""The `aftersales` command: serve, worker, migrate, demo, createuser, token, import."""

from __future__ import annotations

import functools
import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from aftersales.analytics.cli import analytics_app
from aftersales.assistant.cli import assistant_app
from aftersales.config import get_settings
from aftersales.db.uow import configured_database
from aftersales.integrations.cli import import_app, integration_app
from aftersales.integrations.tracking_cli import tracking as import_tracking
from aftersales.kit.access import Role
from aftersales.kit.errors import AppError
from aftersales.proactive.cli import proactive_app
from aftersales.scheduling.cli import staffing
from aftersales.tickets.cli import mail_in

app = typer.Typer(help="Aftersales: an after-sales service platform for e-commerce.", no_args_is_help=True)
app.add_typer(assistant_app, name="assistant")
app.add_typer(proactive_app, name="proactive")
app.add_typer(analytics_app, name="analytics")
token_app = typer.Typer(help="API tokens for integrations (stored hashed, shown once).", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(import_app, name="import")
app.add_typer(integration_app, name="integration")
import_app.command("tracking")(import_tracking)
app.command("staffing")(staffing)
console = Console()


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


def _check_settings() -> None:
    """Refuse to start a long-running process on settings that do not validate (in production: no
    secrets), with the sentence that says what to set rather than a traceback."""
    try:
        get_settings()
    except ValidationError as exc:
        _fail("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))


def _warm_up() -> None:
    """Load (or train, the first time) the assistant's and the ticket classifier's models and
    jieba's dictionary now, rather than on the first chat message, ticket or help search."""
    from aftersales.knowledge import service as knowledge
    from aftersales.tickets import classification
    from aftersales.understanding import service as understanding

    understanding.load_model()
    classification.warm_up()
    try:
        knowledge.search(configured_database(make_data_dirs=True), "退货 return", "zh-CN", limit=1)
    except Exception as exc:  # not migrated yet: the first search pays instead
        console.print(f"help search not warmed up: {exc.__class__.__name__}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="web processes (use PostgreSQL for more than one)")] = 1,
    reload: Annotated[bool, typer.Option(help="reload on code changes (development)")] = False,
) -> None:
    """Serve the web UI and the API."""
    import uvicorn

    _check_settings()
    _warm_up()
    # Keyword arguments written out on purpose: look-alike calls elsewhere pass other things.
    uvicorn.run(
        "aftersales.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        access_log=False,
    )


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="worker threads in this process")] = 2,
) -> None:
    """Run background work (outbox delivery, periodic scans) until stopped."""
    _check_settings()
    from huey.consumer import Consumer

    from aftersales.web.ops import configure_logging
    from aftersales.worker import metrics, tasks, wiring

    settings = get_settings()
    configure_logging(settings.log_json, settings.log_level)
    wiring.connect(settings, configured_database(make_data_dirs=True))
    metrics.serve(settings)
    _warm_up()
    Consumer(tasks.huey, workers=threads, worker_type="thread", periodic=True, check_worker_health=True).run()


@app.command("mail-in")
@functools.wraps(mail_in)
def _mail_in(*args: Any, **kwargs: Any) -> None:
    _check_settings()
    from aftersales.worker import wiring

    # Commits that write outbox rows kick the worker, as they do in the web process; wired here,
    # in the composition root, so the tickets context never imports the worker.
    wiring.connect(get_settings(), configured_database(make_data_dirs=True))
    mail_in(*args, **kwargs)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from aftersales.db.migrate import upgrade

    settings = get_settings()
    settings.ensure_data_dirs()
    upgrade(settings.database_url)
    from aftersales.rules import service as rules

    added = rules.load_defaults(configured_database(make_data_dirs=True))
    if added:
        console.print(f"loaded {added} default policies")
    from aftersales.knowledge import service as knowledge

    articles = knowledge.load_articles(configured_database(make_data_dirs=True))
    if articles:
        console.print(f"loaded {articles} help articles")
    from aftersales.routing import service as routing
    from aftersales.sla import service as sla
    from aftersales.tickets import macros as ticket_macros

    if loaded := sla.load_defaults(configured_database(make_data_dirs=True)):
        console.print(f"loaded {loaded} SLA policies and calendars")
    if macros := ticket_macros.load_default_macros(configured_database(make_data_dirs=True)):
        console.print(f"loaded {macros} macros")
    routing.ensure_defaults(configured_database(make_data_dirs=True))
    console.print(f"schema up to date on {settings.database_url.split('@')[-1]}")


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="customers to create")] = 300,
    orders: Annotated[int, typer.Option(help="orders to create over the last 60 days")] = 3000,
    seed: Annotated[int, typer.Option(help="random seed, for a repeatable shop")] = 7,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing when the database has orders")] = False,
) -> None:
    """Seed a believable demo shop and print the demo accounts."""
    from aftersales.demo.seed import DEMO_ACCOUNTS, seed_demo
    from aftersales.orders import service as orders_service

    db = configured_database(make_data_dirs=True)
    if if_empty and orders_service.count_orders(db) > 0:
        console.print("demo data already present; nothing to do")
    else:
        seed_demo(db, customers=customers, orders=orders, seed=seed, console=console)
    print_accounts(DEMO_ACCOUNTS)


def print_accounts(accounts: list[tuple[str, str, str]]) -> None:
    table = Table(title="Demo accounts (http://127.0.0.1:8000)")
    table.add_column("role")
    table.add_column("username")
    table.add_column("password")
    for role, username, password in accounts:
        table.add_row(role, username, password)
    console.print(table)


@app.command()
def createuser(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[Role, typer.Option(help="the user's role")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option(help="display name")] = "",
    customer: Annotated[str, typer.Option(help="customer external id (role customer)")] = "",
    merchant: Annotated[str, typer.Option(help="merchant code (roles merchant, warehouse, integration)")] = "",
) -> None:
    """Create an account."""
    from aftersales.identity import service as identity
    from aftersales.orders import service as orders_service

    db = configured_database(make_data_dirs=True)
    customer_id = orders_service.customer_id_for(db, customer) if customer else None
    merchant_id = orders_service.merchant_id_for(db, merchant) if merchant else None
    if customer and customer_id is None:
        _fail(f"no customer with external id '{customer}'")
    if merchant and merchant_id is None:
        _fail(f"no merchant with code '{merchant}'")
    try:
        # Keyword arguments written out on purpose: look-alike calls elsewhere pass other things.
        user = identity.create_user(
            db,
            username=username,
            password=password,
            role=role,
            display_name=name,
            customer_id=customer_id,
            merchant_id=merchant_id,
        )
    except AppError as exc:
        _fail(exc.message)
    else:
        console.print(f"created {user.username} ({user.role.value})")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="username the token acts as")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="what the token may do, e.g. orders:write (repeat for several)"),
    ] = None,
    name: Annotated[str, typer.Option(help="what the token is for")] = "cli",
) -> None:
    """Create an API token limited to the scopes given; it is printed once and stored only as a hash."""
    from aftersales.identity import service as identity

    try:
        issued = identity.create_token(configured_database(make_data_dirs=True), user, name, scopes=scope or [])
    except AppError as exc:
        _fail(exc.message)
    else:
        sys.stdout.write(issued.token + "\n")
        Console(stderr=True).print(
            f"token {issued.prefix} for {issued.user} ({' '.join(issued.scopes)}); "
            f"revoke with: aftersales token revoke {issued.prefix}"
        )


@token_app.command("revoke")
def token_revoke(prefix: Annotated[str, typer.Argument(help="the token's prefix, as printed at creation")]) -> None:
    """Revoke an API token."""
    from aftersales.identity import service as identity

    try:
        identity.revoke_token(configured_database(make_data_dirs=True), prefix)
    except AppError as exc:
        _fail(exc.message)
    else:
        console.print(f"revoked token {prefix}")


if __name__ == "__main__":
    app()
