"""The stack's limit: a bare FastAPI app with one endpoint that validates a small JSON body and does
one SQLite insert (WAL, synchronous=NORMAL, one commit per request, writes serialised by a lock as
ours are), served by uvicorn the way `aftersales serve` serves (one process, no access log).

Our intake rate divided by this one's says how much of the stack's ceiling our own code leaves.

    python -m bench.bare_limit --port 8765      # BARE_DB names the SQLite file
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import threading
from typing import Annotated

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field


class LineIn(BaseModel):
    line_no: int = Field(ge=1)
    quantity: int = Field(ge=1)


class DraftIn(BaseModel):
    order_number: Annotated[str, Field(min_length=1, max_length=64)]
    kind: str
    reason: str
    lines: list[LineIn] = Field(default_factory=list, max_length=50)


def create_app() -> FastAPI:
    path = os.environ.get("BARE_DB", "bare.db")
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, order_number TEXT, kind TEXT, reason TEXT, "
        "idempotency_key TEXT UNIQUE, created_at TEXT DEFAULT CURRENT_TIMESTAMP)"
    )
    lock = threading.Lock()
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/items", status_code=201)
    def create(draft: DraftIn) -> dict[str, int]:
        with lock:
            cursor = conn.execute(
                "INSERT INTO items (order_number, kind, reason, idempotency_key) VALUES (?, ?, ?, ?)",
                (draft.order_number, draft.kind, draft.reason, os.urandom(8).hex()),
            )
        return {"id": int(cursor.lastrowid or 0)}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    uvicorn.run("bench.bare_limit:create_app", factory=True, host="127.0.0.1", port=args.port, access_log=False)


if __name__ == "__main__":
    main()
