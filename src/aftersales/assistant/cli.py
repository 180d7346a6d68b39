"""`aftersales assistant …`: classify messages and evaluate the intent model from the shell.

    aftersales assistant classify < messages.txt > understood.jsonl
    aftersales assistant classify --input messages.txt
    aftersales assistant eval labelled.csv          (columns text,intent; header row)
    aftersales assistant eval labelled.csv --json   (the same report as one JSON object)
    aftersales assistant retrain                    (base data + approved examples; live only if no number drops)

Output of `classify`: one JSON object per non-blank input line, in input order, written and
flushed as each line is read (so it also works as a filter in a pipe):
    {"text": "...", "intent": "refund_status", "confidence": 0.91, "entities": {...}}
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, TextIO

import typer

assistant_app = typer.Typer(
    help="The assistant's understanding: intents and entities of customer messages.",
    no_args_is_help=True,
)


def _utf8(stream: TextIO, errors: str) -> None:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):  # already read from, or not reconfigurable
            reconfigure(encoding="utf-8", errors=errors)


def _lines(source: TextIO) -> Iterator[str]:
    for raw in source:
        text = raw.rstrip("\r\n")
        if text.strip():
            yield text


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"give a date as YYYY-MM-DD, not {value!r}", param_hint="--today") from None


@assistant_app.command()
def classify(
    input_file: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="read messages from this file instead of stdin (UTF-8, one a line)"),
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="read relative dates (昨天, last week) against this day, YYYY-MM-DD")
    ] = None,
) -> None:
    """Read one message per line (stdin or --input) and write one JSON object per line."""
    from aftersales.assistant import service

    day = _parse_day(today) or service.local_today()
    if input_file is not None and not input_file.is_file():
        raise typer.BadParameter(f"no such file: {input_file}", param_hint="--input")
    service.load_model()  # once, before the first line
    _utf8(sys.stdout, "strict")
    out = sys.stdout
    if input_file is not None:
        with input_file.open(encoding="utf-8-sig", errors="replace") as handle:
            _classify_stream(handle, out, day)
    else:
        _utf8(sys.stdin, "replace")
        _classify_stream(sys.stdin, out, day)


def _classify_stream(source: TextIO, out: TextIO, day: date) -> None:
    from aftersales.assistant import service

    for text in _lines(source):
        understood = service.understand(text, day)
        out.write(json.dumps(understood.as_json(), ensure_ascii=False) + "\n")
        out.flush()


@assistant_app.command("eval")
def evaluate(
    file: Annotated[Path, typer.Argument(help="CSV with a header row and the columns text,intent")],
    confusions: Annotated[int, typer.Option(help="how many of the most common confusions to list")] = 10,
    today: Annotated[str | None, typer.Option(help="the day relative dates are read against, YYYY-MM-DD")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as one JSON object")] = False,
) -> None:
    """Print accuracy, in-scope accuracy, out-of-scope precision and recall, per-intent
    precision/recall/F1, the most common confusions and the out-of-scope curve (label `oos` or
    `out_of_scope` for out of scope)."""
    from aftersales.assistant import service
    from aftersales.understanding.intents import INTENTS
    from aftersales.understanding.model import DataError, read_examples

    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    try:
        rows = read_examples(file, known_only=False)
    except (DataError, UnicodeDecodeError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if not rows:
        typer.echo(f"error: {file} has no labelled messages", err=True)
        raise typer.Exit(code=2)
    unknown = sorted({intent for _, intent in rows} - set(INTENTS))
    if unknown:
        typer.echo(f"warning: labels that are not intents of this model: {', '.join(unknown)}", err=True)
    report = service.evaluate(rows, _parse_day(today))
    _utf8(sys.stdout, "strict")
    if as_json:
        typer.echo(json.dumps(report.as_json(confusions), ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(report.lines(confusions)))


@assistant_app.command()
def retrain(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="measure the candidate, never replace the live model")
    ] = False,
    today: Annotated[str | None, typer.Option(help="the day relative dates are read against, YYYY-MM-DD")] = None,
) -> None:
    """Rebuild the intent model from the training data plus the approved examples, measure it and
    the live model on the frozen test set, print both as JSON, and make it the live model only when
    no headline number (accuracy, in-scope accuracy, OOS precision, OOS recall) drops: exit 1 if
    one does (the live model stays), 0 otherwise."""
    from aftersales.assistant import learning, service
    from aftersales.config import get_settings
    from aftersales.db.uow import Database

    db = Database(get_settings().database_url)
    outcome = learning.retrain(db, _parse_day(today) or service.local_today(), promote=not dry_run)
    _utf8(sys.stdout, "strict")
    typer.echo(json.dumps(outcome.as_json(), ensure_ascii=False, indent=2))
    if outcome.dropped:
        typer.echo(
            "refused: the new model is worse on the frozen test set in "
            + ", ".join(outcome.dropped)
            + "; the live model stays. Review the approved examples (mislabelled ones make numbers drop).",
            err=True,
        )
        raise typer.Exit(code=1)
    typer.echo("replaced the live model" if outcome.replaced else "dry run: the live model stays", err=True)


if __name__ == "__main__":
    assistant_app()
