"""Dispute pages and API over HTTP: the case page offers the platform only when allowed, the buyer
escalates by form, the arbitrator's queue and dispute page speak both languages, and the REST API
answers with the same scopes as the pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Role
from aftersales.rules import service as rules

from ..factories import Factory
from ..integration.helpers import delivered_order
from ._support import sign_in


@pytest.fixture
def case_number(factory: Factory, db: Database) -> str:
    rules.load_defaults(db)
    factory.catalogue()
    delivered_order(factory, db, "SO-H1", merchant="pop-a")
    factory.customer_user("lina", "C1")
    factory.merchant_user("popa", "pop-a")
    factory.user("judge", Role.ARBITRATOR)
    lina = identity.principal_for_username(db, "lina")
    popa = identity.principal_for_username(db, "popa")
    assert lina and popa
    draft = CaseDraft(
        order_number="SO-H1",
        kind=CaseKind.COMPENSATION,
        reason=CaseReason.LATE_DELIVERY,
        lines=[CaseLineIn(line_no=1, quantity=1)],
        compensation_amount=Decimal("20.00"),
    )
    case = cases.submit(db, draft, lina, via="customer")
    assert case.status == "under_review"
    page_before = case.number
    cases.act(db, case.number, ActionIn(action=CaseAction.REJECT, note="not late"), popa)
    return page_before


def test_buyer_escalates_from_the_case_page_and_the_arbitrator_sees_it(client: TestClient, case_number: str) -> None:
    csrf = sign_in(client, "popa")
    assert 'data-testid="ask-platform"' not in client.get(f"/cases/{case_number}").text

    csrf = sign_in(client, "lina")
    page = client.get(f"/cases/{case_number}").text
    assert 'data-testid="ask-platform"' in page
    form = client.get(f"/disputes/new?case={case_number}")
    assert form.status_code == 200
    empty = client.post(
        "/disputes", data={"csrf_token": csrf, "case_number": case_number, "claim": ""}, follow_redirects=False
    )
    assert empty.status_code == 303 and "/disputes/new" in empty.headers["location"]
    done = client.post(
        "/disputes",
        data={"csrf_token": csrf, "case_number": case_number, "claim": "it was late"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    number = done.headers["location"].rsplit("/", 1)[-1]
    mine = client.get(f"/disputes/{number}")
    assert mine.status_code == 200 and 'data-status="escalated"' in mine.text
    assert 'data-testid="ask-platform"' not in client.get(f"/cases/{case_number}").text  # handed over: offered no more

    sign_in(client, "judge")
    assert number in client.get("/disputes").text
    page = client.get(f"/disputes/{number}").text
    assert ("已申请介入" in page or "Escalated" in page) and "dispute.s." not in page and "dispute.do." not in page
    assert 'data-testid="dispute-accept"' in page and 'data-testid="dispute-rule"' not in page

    # A ruling sent without the evidence it rests on is refused in the form's own words.
    csrf = sign_in(client, "judge")
    refused = client.post(
        f"/disputes/{number}/act",
        data={"csrf_token": csrf, "action": "rule", "liability": "merchant", "outcome": "full_refund", "note": "x"},
    )
    assert "裁决所依据的证据（至少勾选一项）" in refused.text
    assert "List should have" not in refused.text and "Please check the values" not in refused.text


def test_the_api_escalates_once_and_refuses_what_the_state_does_not_allow(
    client: TestClient, factory: Factory, case_number: str
) -> None:
    token = factory.token("lina")
    auth = {"Authorization": f"Bearer {token}"}
    first = client.post("/api/v1/disputes", json={"case_number": case_number, "claim": "late"}, headers=auth)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/disputes", json={"case_number": case_number, "claim": "late"}, headers=auth)
    assert again.json()["number"] == first.json()["number"]
    number = first.json()["number"]
    refused = client.post(f"/api/v1/disputes/{number}/appeal", json={"note": "x"}, headers=auth)
    assert refused.status_code == 403
    bad = client.post(f"/api/v1/disputes/{number}/withdraw", json={}, headers=auth)
    assert bad.status_code == 422
    gone = client.post(f"/api/v1/disputes/{number}/withdraw", json={"note": "resolved"}, headers=auth)
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    assert client.post(f"/api/v1/disputes/{number}/settle", json={"note": "x"}, headers=auth).status_code == 409
    judge = {"Authorization": f"Bearer {factory.token('judge')}"}
    assert client.get(f"/api/v1/disputes/{number}", headers=judge).status_code == 200
    assert "/api/v1/disputes/{number}/ruling" in client.get("/openapi.json").json()["paths"]
