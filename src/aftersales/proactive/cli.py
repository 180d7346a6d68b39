"""`aftersales proactive scan [--at ISO]`: one scan now (or at a given moment), one JSON line per
new incident on standard output."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated

import structlog
import typer

from aftersales.db.uow import configured_database
from aftersales.kit.clock import ensure_utc
from aftersales.proactive import service


class _Stderr:
    """Whatever sys.stderr is when a line is logged (a test runner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


proactive_app = typer.Typer(help="Proactive service: find trouble before the customer does.", no_args_is_help=True)


@proactive_app.command("scan")
def scan(
    at: Annotated[str | None, typer.Option(help="scan as of this moment (ISO 8601; no zone = UTC)")] = None,
) -> None:
    """Take in new changes, check the orders that are due, tell the customers; prints one JSON
    object per new incident."""
    moment = None
    if at is not None:
        try:
            moment = ensure_utc(datetime.fromisoformat(at))
        except ValueError:
            typer.echo(f"error: --at {at!r} is not a date and time; write it like 2026-12-07T10:00:00+08:00", err=True)
            raise typer.Exit(code=2) from None
    # Standard output is the incidents, one JSON object a line; what the services log goes to stderr.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(_Stderr()))  # type: ignore[arg-type]
    result = service.scan(configured_database(), moment)
    for incident in result.incidents:
        typer.echo(
            json.dumps(
                {
                    "order": incident.order_number,
                    "kind": incident.kind,
                    "episode": incident.episode,
                    "first_signal_at": incident.first_signal_at.isoformat(),
                    "detected_at": incident.detected_at.isoformat(),
                    "eta_at": incident.eta_at.isoformat() if incident.eta_at else None,
                    "detail": incident.detail,
                },
                ensure_ascii=False,
            )
        )
