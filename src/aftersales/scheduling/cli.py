"""`aftersales staffing`: agents for one interval's contacts, as one JSON object.

    aftersales staffing --calls 100 --interval-minutes 30 --handle-seconds 180 --answer-within 20 --target 0.8
    → {"agents": 14, "rostered": 20, "service_level": 0.888, "asa_seconds": 7.8, ...}

With --patience the model is Erlang A (callers give up after that many seconds on average), else
Erlang C; --chats divides the handling time by the concurrency factor (docs/peak.md).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from aftersales.kit.errors import AppError
from aftersales.scheduling import domain


def staffing(
    calls: Annotated[float, typer.Option(help="contacts arriving in the interval")],
    interval_minutes: Annotated[float, typer.Option(help="length of the interval in minutes")] = 30,
    handle_seconds: Annotated[float, typer.Option(help="average handling time per contact, seconds")] = 300,
    answer_within: Annotated[float, typer.Option(help="service-level threshold, seconds")] = 20,
    target: Annotated[float, typer.Option(help="share answered within the threshold, 0–1 (0.8 = 80 %)")] = 0.8,
    shrinkage: Annotated[float, typer.Option(help="share of paid time not on contacts")] = domain.SHRINKAGE,
    max_occupancy: Annotated[
        float, typer.Option(help="highest share of time agents may be busy")
    ] = domain.MAX_OCCUPANCY,
    patience: Annotated[float | None, typer.Option(help="callers' mean patience, seconds: Erlang A")] = None,
    chats: Annotated[int | None, typer.Option(help="chats an agent holds at once (1–5)")] = None,
) -> None:
    """Agents and rostered heads for one interval (Erlang C, or Erlang A with --patience)."""
    try:
        result = domain.solve(
            calls,
            interval_minutes * 60,
            handle_seconds,
            answer_within,
            target,
            patience=patience,
            chats=chats,
            max_occupancy=max_occupancy,
            shrinkage=shrinkage,
        )
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(json.dumps({
        "agents": result.agents,
        "rostered": result.rostered,
        "service_level": round(result.service_level, 3),
        "asa_seconds": round(result.asa_seconds, 1),
        "occupancy": round(result.occupancy, 3),
        "abandon_rate": round(result.abandon_rate, 4),
        "model": result.model.value,
        "load_erlangs": round(result.load_erlangs, 3),
    }))  # fmt: skip
