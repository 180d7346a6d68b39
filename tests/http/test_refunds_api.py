"""Refunds over HTTP: the gateway's signed callback (bad signature 401, unknown reference 404,
replays harmless) and the refunds of an order, scoped like the order itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.refunds import api as refunds_api
from aftersales.refunds import domain
from aftersales.refunds import service as refunds
from aftersales.refunds.gateway import GatewayUnavailable, use_gateway

from ..factories import Factory
from ..integration.helpers import outbox_rows
from ..integration.test_refunds_support import Recording, held_gateway, paid_order, refund_row, request
from ._support import bearer

CALLBACK = "/api/v1/refunds/gateway-callback"


@pytest.fixture
def api(app: FastAPI, db: Database) -> Iterator[TestClient]:
    """The app with the refunds routes (added if main.py does not include them), and the simulator
    without its automatic confirmation, so the callbacks below are the only ones."""
    if not any(getattr(route, "path", "") == CALLBACK for route in app.routes):
        app.include_router(refunds_api.router, prefix="/api/v1")
    use_gateway(db, held_gateway(db))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client
    use_gateway(db, None)


@pytest.fixture
def submitted(api: TestClient, db: Database, factory: Factory) -> tuple[int, str]:
    """A refund of 100.00 on order SO-R1 (customer C1), acknowledged by the gateway: (id, gateway ref)."""
    factory.catalogue()
    order_id = paid_order(db)
    refund = request(db, order_id, "100.00", "k1")
    refunds.process_refund(db, refund.id)
    return refund.id, refund_row(db, refund.id).gateway_ref


def _secret(app: FastAPI) -> str:
    return str(app.state.settings.refund_gateway_callback_secret)


def post_callback(client: TestClient, app: FastAPI, payload: dict[str, Any], *, signature: str | None = None) -> Any:
    body = json.dumps(payload).encode()
    sent = domain.callback_signature(_secret(app), body) if signature is None else signature
    return client.post(
        CALLBACK, content=body, headers={"Content-Type": "application/json", "X-Gateway-Signature": sent}
    )


def test_a_signed_confirmation_settles_the_refund(
    api: TestClient, app: FastAPI, db: Database, submitted: tuple[int, str]
) -> None:
    refund_id, ref = submitted
    response = post_callback(api, app, {"gateway_ref": ref, "status": "succeeded"})
    assert response.status_code == 200, response.text
    assert response.json() == {"gateway_ref": ref, "status": "succeeded"}
    assert refund_row(db, refund_id).status == "succeeded"


def test_a_replayed_confirmation_is_harmless(
    api: TestClient, app: FastAPI, db: Database, submitted: tuple[int, str]
) -> None:
    refund_id, ref = submitted
    for _ in range(3):
        response = post_callback(api, app, {"gateway_ref": ref, "status": "succeeded"})
        assert response.status_code == 200
    settled_at = refund_row(db, refund_id).settled_at
    assert post_callback(api, app, {"gateway_ref": ref, "status": "succeeded"}).status_code == 200
    assert refund_row(db, refund_id).settled_at == settled_at
    assert len(outbox_rows(db, "refund.settled")) == 1


def test_a_contradicting_confirmation_is_refused(api: TestClient, app: FastAPI, submitted: tuple[int, str]) -> None:
    _, ref = submitted
    assert post_callback(api, app, {"gateway_ref": ref, "status": "failed"}).status_code == 200
    response = post_callback(api, app, {"gateway_ref": ref, "status": "succeeded"})
    assert response.status_code == 409
    assert "already failed" in response.json()["message"]


@pytest.mark.parametrize("signature", ["", "deadbeef", "sha256=" + "0" * 64])
def test_a_bad_signature_is_401_and_changes_nothing(
    api: TestClient, app: FastAPI, db: Database, submitted: tuple[int, str], signature: str
) -> None:
    refund_id, ref = submitted
    response = post_callback(api, app, {"gateway_ref": ref, "status": "succeeded"}, signature=signature)
    assert response.status_code == 401
    assert "X-Gateway-Signature" in response.json()["message"]
    assert refund_row(db, refund_id).status == "submitted"


def test_a_signature_over_another_body_is_401(
    api: TestClient, app: FastAPI, db: Database, submitted: tuple[int, str]
) -> None:
    refund_id, ref = submitted
    other = domain.callback_signature(_secret(app), b'{"gateway_ref": "x", "status": "failed"}')
    response = post_callback(api, app, {"gateway_ref": ref, "status": "succeeded"}, signature=other)
    assert response.status_code == 401
    assert refund_row(db, refund_id).status == "submitted"


def test_the_sha256_prefix_is_accepted(api: TestClient, app: FastAPI, submitted: tuple[int, str]) -> None:
    _, ref = submitted
    body = json.dumps({"gateway_ref": ref, "status": "succeeded"}).encode()
    signature = "sha256=" + domain.callback_signature(_secret(app), body)
    response = api.post(CALLBACK, content=body, headers={"X-Gateway-Signature": signature})
    assert response.status_code == 200


def test_an_unknown_reference_is_404(api: TestClient, app: FastAPI, submitted: tuple[int, str]) -> None:
    response = post_callback(api, app, {"gateway_ref": "gw_unknown", "status": "succeeded"})
    assert response.status_code == 404
    assert "gw_unknown" in response.json()["message"]


@pytest.mark.parametrize(
    "payload",
    [{"gateway_ref": "x", "status": "maybe"}, {"status": "succeeded"}, ["not", "an", "object"]],
)
def test_a_signed_body_that_is_not_a_confirmation_is_422(
    api: TestClient, app: FastAPI, submitted: tuple[int, str], payload: Any
) -> None:
    response = post_callback(api, app, payload)
    assert response.status_code == 422
    assert response.json()["message"].startswith("Please fix the callback")


def test_a_confirmation_before_the_acknowledgement_finds_the_refund_by_its_key(
    api: TestClient, app: FastAPI, db: Database, factory: Factory
) -> None:
    # The gateway took the refund but its answer never came back (the worker's try failed), so we
    # do not know its reference when the confirmation arrives.
    use_gateway(db, Recording(held_gateway(db), down=True))
    factory.catalogue()
    refund = request(db, paid_order(db), "100.00", "k-early")
    with pytest.raises(GatewayUnavailable):
        refunds.process_refund(db, refund.id)
    payload = {"gateway_ref": "gw_early", "status": "succeeded", "idempotency_key": "k-early"}
    assert post_callback(api, app, payload).status_code == 200
    row = refund_row(db, refund.id)
    assert (row.status, row.gateway_ref) == ("succeeded", "gw_early")


def test_the_refunds_of_an_order_are_seen_by_whoever_may_see_the_order(
    api: TestClient, db: Database, factory: Factory, submitted: tuple[int, str]
) -> None:
    paid_order(db, "SO-R2", customer="C2")
    factory.customer_user("buyer", "C1")
    factory.customer_user("stranger", "C2")
    factory.user("agent", Role.AGENT_T1)
    url = "/api/v1/orders/SO-R1/refunds"

    mine = api.get(url, headers=bearer(factory, "buyer"))
    assert mine.status_code == 200
    [refund] = mine.json()
    assert (refund["amount"], refund["status"], refund["order_number"]) == ("100.00", "submitted", "SO-R1")
    assert "idempotency_key" not in refund and "last_error" not in refund and "payment_reference" not in refund
    assert api.get(url, headers=bearer(factory, "agent")).json() == [refund]
    assert api.get(url, headers=bearer(factory, "stranger")).status_code == 404
    assert api.get("/api/v1/orders/SO-NONE/refunds", headers=bearer(factory, "agent")).status_code == 404
    assert api.get(url).status_code == 401
