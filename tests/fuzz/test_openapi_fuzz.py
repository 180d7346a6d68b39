"""Fuzzing the API from its own OpenAPI document with schemathesis: every operation, as an admin
with a bearer token, over a database with a real catalogue, order, case and policies, so reads
and actions meet real rows as well as made-up ones.

Checks on every response:
- not_a_server_error: no 5xx, whatever the input;
- response_schema_conformance: every documented response body matches its declared schema;
- status_code_conformance: the status code is one the operation documents (FastAPI documents 200/201
  and 422; the shared error responses are declared by the routers).

Left out, and why:
- negative_data_rejection / positive_data_acceptance: they judge which inputs the API accepts; our
  domain refuses syntactically valid input for business reasons (409 on a refused case), and
  accepts extra properties on purpose, so they flag design choices, not defects.
- stateful (link-following) runs: the operations carry no OpenAPI links yet.

Bounded for CI: MAX_EXAMPLES per operation, derandomised (the same cases every run), no example
database on disk. Takes a minute or two per database.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.main import create_app
from aftersales.rules import service as rules

from ..factories import Factory
from ..http.test_cases_api import draft, put_order

MAX_EXAMPLES = int(os.environ.get("AFTERSALES_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]

# The document only: an app whose database is never opened (no request reaches it); the tests
# send every request to the `app` fixture, which is on the test database.
_NOWHERE = f"sqlite:///{Path(tempfile.gettempdir()) / 'aftersales-fuzz-openapi-only.db'}"
_DOC_APP = create_app(Settings(database_url=_NOWHERE, queue_url=_NOWHERE, env="test", queue_immediate=True))
schema = schemathesis.openapi.from_asgi("/openapi.json", _DOC_APP)

# Real path parameters by path template, filled in by the `seeded` fixture.
REAL: dict[str, dict[str, Any]] = {}


_REAL_PATHS = {
    "/api/v1/orders/{number}",
    "/api/v1/orders/{number}/refunds",
    "/api/v1/orders/{number}/cancel",
    "/api/v1/orders/{number}/address",
    "/api/v1/orders/{number}/urge",
    "/api/v1/orders/{number}/lines/{line_no}/out-of-stock",
    "/api/v1/cases/{number}",
    "/api/v1/cases/{number}/actions",
    "/api/v1/merchants/{code}",
    "/api/v1/categories/{code}",
    "/api/v1/policies/{key}",
}


@pytest.fixture
def seeded(factory: Factory, db: Database, client: Any) -> Iterator[dict[str, str]]:
    """Policies, the catalogue, two delivered orders with a case on one, an admin's bearer header."""
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-FZ1")
    put_order(factory, db, "SO-FZ2", customer="C2", merchant="pop-a", stage="shipped")
    factory.user("fuzz-admin", Role.ADMIN)
    headers = {"Authorization": f"Bearer {factory.token('fuzz-admin')}"}
    made = client.post("/api/v1/cases", json=draft("SO-FZ1"), headers=headers)
    assert made.status_code == 201, made.text
    case_number = made.json()["number"]
    policy_key = client.get("/api/v1/policies", headers=headers).json()[0]["key"]
    REAL.clear()
    for path in _REAL_PATHS:
        if path.startswith("/api/v1/cases/"):
            REAL[path] = {"number": case_number}
        elif "{line_no}" in path:
            REAL[path] = {"number": "SO-FZ2", "line_no": 1}
        elif path.startswith("/api/v1/orders/"):
            REAL[path] = {"number": "SO-FZ2" if path.endswith(("cancel", "address", "urge")) else "SO-FZ1"}
        elif path.startswith("/api/v1/merchants/"):
            REAL[path] = {"code": "pop-a"}
        elif path.startswith("/api/v1/categories/"):
            REAL[path] = {"code": "electronics"}
        else:
            REAL[path] = {"key": policy_key}
    yield headers
    REAL.clear()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@pytest.mark.slow
def test_api_operation_survives_fuzzing(case: schemathesis.Case, app: Any, seeded: dict[str, str]) -> None:
    real = REAL.get(case.operation.path)
    # Half the cases (a stable half: by a checksum of what was drawn) name rows that exist, so
    # reads and actions run their real code paths, not only the 404.
    if real and zlib.crc32(repr(case.path_parameters).encode()) % 2:
        case.path_parameters = {**case.path_parameters, **real}
    case.call_and_validate(app=app, headers=seeded, checks=CHECKS)
