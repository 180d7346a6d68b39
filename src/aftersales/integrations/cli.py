"""`aftersales import orders` and `aftersales integration create`: shop platforms' orders for
backfills and support staff, and connecting a shop's webhooks.

    aftersales import orders --format shopify --merchant shop1 order.json orders-page-2.json
    → {"file": "order.json", "order_number": "1001", "status": "paid", "result": "created"}

Each FILE is one payload as the platform sends it (a webhook body or a REST answer; a list gives
a line per order). A file that cannot be imported changes nothing and is named on stderr with
the field at fault; the others are imported; the exit code is then 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from aftersales.config import get_settings
from aftersales.db.uow import configured_database
from aftersales.integrations import service
from aftersales.integrations.domain import MAX_BODY_BYTES, Platform
from aftersales.integrations.schemas import IntegrationIn
from aftersales.kit.access import SYSTEM
from aftersales.kit.errors import AppError
from aftersales.orders import service as orders

import_app = typer.Typer(
    help="Backfills: orders and tracking in the formats platforms and carriers send.", no_args_is_help=True
)
integration_app = typer.Typer(help="Shops connected by webhooks (secrets shown once).", no_args_is_help=True)

# Each platform's documented zone for times written without one (a WooCommerce site's own zone may differ).
DEFAULT_ZONE = "UTC"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@import_app.command("orders")
def import_orders(
    files: Annotated[list[Path], typer.Argument(help="payload files, each as the platform sends it")],
    fmt: Annotated[Platform, typer.Option("--format", help="the platform that wrote the files")],
    merchant: Annotated[str, typer.Option("--merchant", help="code of the merchant whose orders these are")],
    zone: Annotated[
        str, typer.Option(help="zone of times written without one (WooCommerce: the site's)")
    ] = DEFAULT_ZONE,
    number_prefix: Annotated[str, typer.Option(help="put before each order number (several shops, one merchant)")] = "",
) -> None:
    """Import orders (and refunds reported alone) from files; one JSON line per order."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        _fail(f"--zone: '{zone}' is not a time zone (e.g. Asia/Shanghai, Europe/Berlin, UTC)")
        return
    db = configured_database(make_data_dirs=True)
    merchant_id = orders.merchant_id_for(db, merchant)
    if merchant_id is None:
        _fail(f"--merchant: merchant '{merchant}' is not registered")
        return
    source = service.Source(platform=fmt, merchant_code=merchant, zone=tz, number_prefix=number_prefix)
    by = service.feeder(merchant_id, f"import {fmt.value} (CLI)")
    failed = 0
    for path in files:
        try:
            raw = _read(path)
            lines = service.import_payload(db, source, raw, by)
        except (OSError, AppError) as exc:
            failed += 1
            reason = exc.message if isinstance(exc, AppError) else (exc.strerror or str(exc))
            typer.echo(f"error: {path}: {reason} (nothing imported from this file)", err=True)
            continue
        for line in lines:
            typer.echo(json.dumps({**line.model_dump(), "file": str(path)}, ensure_ascii=False))
    if failed:
        raise typer.Exit(code=2)


def _read(path: Path) -> bytes:
    with path.open("rb") as fh:
        raw = fh.read(MAX_BODY_BYTES * 16 + 1)
    if len(raw) > MAX_BODY_BYTES * 16:
        raise OSError(f"larger than {MAX_BODY_BYTES * 16} bytes; split it")
    return raw


@integration_app.command("create")
def create(
    platform: Annotated[Platform, typer.Option(help="the shop's platform")],
    merchant: Annotated[str, typer.Option("--merchant", help="code of the merchant the shop sells for")],
    name: Annotated[str, typer.Option(help="what to call the shop")],
    secret: Annotated[
        str, typer.Option(help="the platform's own secret (Shopify app, BigCommerce client); empty: make one")
    ] = "",
    api_base_url: Annotated[
        str, typer.Option(help="BigCommerce: https://api.bigcommerce.com/stores/{store_hash}")
    ] = "",
    api_token: Annotated[str, typer.Option(help="BigCommerce: the API account's access token")] = "",
    zone: Annotated[str, typer.Option(help="zone of the shop's zone-less times")] = DEFAULT_ZONE,
    number_prefix: Annotated[str, typer.Option(help="put before each order number")] = "",
) -> None:
    """Connect a shop: prints its webhook address and, once, its secret."""
    try:
        data = IntegrationIn(
            platform=platform,
            merchant_code=merchant,
            name=name,
            secret=secret,
            api_base_url=api_base_url,
            api_token=api_token,
            zone=zone,
            number_prefix=number_prefix,
        )
        created = service.create_integration(
            configured_database(make_data_dirs=True), get_settings().secret_key.encode(), data, SYSTEM
        )
    except AppError as exc:
        _fail(exc.message)
        return
    except ValueError as exc:  # pydantic's ValidationError
        _fail(str(exc).splitlines()[-1] if str(exc) else "invalid option")
        return
    typer.echo(json.dumps(created.model_dump()))
