"""`aftersales analytics rebuild [--since DATE]`: recompute the daily rollups from the metric events.

aftersales analytics rebuild                 → every day
aftersales analytics rebuild --since 2026-11-01
→ {"events": 12345, "rollups": 678, "since": "2026-11-01"}
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from aftersales.analytics import service
from aftersales.db.uow import configured_database

analytics_app = typer.Typer(help="Service KPIs: metric events and their daily rollups.", no_args_is_help=True)


@analytics_app.command("rebuild")
def rebuild(
    since: Annotated[
        str | None, typer.Option(help="first local day to rebuild (YYYY-MM-DD); all days if left out")
    ] = None,
) -> None:
    """Recompute the daily rollups from the metric events (all days, or from --since on)."""
    first: date | None = None
    if since is not None:
        try:
            first = date.fromisoformat(since)
        except ValueError:
            typer.echo(f"error: --since takes a date like 2026-11-01, not {since!r}", err=True)
            raise typer.Exit(code=2) from None
    events, rows = service.rebuild(configured_database(make_data_dirs=True), first)
    typer.echo(json.dumps({"events": events, "rollups": rows, "since": since}))
