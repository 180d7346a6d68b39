"""`aftersales import tracking --format {easypost,aftership,17track,shippo,cainiao} FILE…`: each FILE one
payload as it was sent (a webhook body or a REST response). One JSON line per tracking on stdout:

    {"file": "push.json", "tracking_number": "YT2611020000001", "status": "returned", "new_events": 3}

A file that cannot be read or applied changes nothing, is named on stderr with the field, and
makes the exit status 2; the other files are still imported. Importing a file again adds nothing."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from aftersales.db.uow import Database, configured_database
from aftersales.integrations.carriers import FORMATS
from aftersales.integrations.tracking_import import ImportRefused, import_payload, read_payload

Format = StrEnum("Format", {name: name for name in FORMATS})  # type: ignore[misc]


def import_files(db: Database, fmt: str, files: list[Path]) -> int:
    """Import each file; print a line per tracking, a sentence per refused file. Returns the exit status."""
    failed = 0
    for path in files:
        try:
            results = import_payload(db, fmt, read_payload(path))
        except ImportRefused as exc:
            failed += 1
            sys.stderr.write(f"error: {path}: {exc}; nothing imported from this file\n")
            continue
        for result in results:
            line = {
                "file": str(path),
                "tracking_number": result.tracking_number,
                "status": result.status,
                "new_events": result.new_events,
            }
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 2 if failed else 0


def tracking(
    files: Annotated[list[Path], typer.Argument(help="payload files, each one webhook body or REST response")],
    format: Annotated[Format, typer.Option("--format", help="who sent the payloads")],
) -> None:
    """Import carriers' tracking payloads (backfills, replays) into the shipments they belong to."""
    status = import_files(configured_database(make_data_dirs=True), str(format.value), files)
    if status:
        raise typer.Exit(code=status)
