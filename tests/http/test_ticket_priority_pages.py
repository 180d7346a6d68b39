"""The policy pages with the ticket-priority purpose: tabs per purpose, the editor, the htmx dry run."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.rules import service

from ..factories import Factory
from ._support import sign_in
from .test_rules_pages import rules_app

FACTS = {
    "ticket.type": "complaint",
    "ticket.scenario": "product.defect",
    "ticket.scenario_group": "product",
    "product.category": "baby_maternal",
    "order.total": 258,
    "customer.tier": "regular",
    "customer.complaints_30d": 0,
    "ticket.threatens_escalation": False,
}


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    service.load_defaults(db)
    return rules_app(settings)


@pytest.fixture
def admin(factory: Factory) -> str:
    factory.user("boss-admin", Role.ADMIN)
    return "boss-admin"


def test_the_list_shows_one_purpose_at_a_time(client: TestClient, admin: str) -> None:
    sign_in(client, admin)
    eligibility = client.get("/admin/policies")
    rows = re.findall(r'data-testid="policy-row" data-key="([^"]+)"', eligibility.text)
    assert "invoice_always" in rows and not any(key.startswith("ticket_") for key in rows)
    assert 'data-purpose="ticket_priority"' in eligibility.text and "工单优先级" in eligibility.text
    page = client.get("/admin/policies?purpose=ticket_priority")
    rows = re.findall(r'data-testid="policy-row" data-key="([^"]+)"', page.text)
    assert rows[0] == "ticket_urgent_threat_high_value" and rows[-1] == "ticket_medium_otherwise"
    assert 'name="purpose" value="ticket_priority"' in page.text
    assert 'data-testid="dry-run-order"' not in page.text  # priority dry runs take facts only
    assert "rules." not in re.sub(r"<[^>]+>", "", page.text)  # every key is translated
    assert client.get("/admin/policies?purpose=nonsense").status_code == 200


def test_the_dry_run_answers_a_priority(client: TestClient, admin: str) -> None:
    csrf = sign_in(client, admin)
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    form = {"csrf_token": csrf, "mode": "facts", "purpose": "ticket_priority", "facts": json.dumps(FACTS)}
    result = client.post("/admin/policies/dry-run", data=form, headers=headers)
    assert result.status_code == 200 and 'data-priority="high"' in result.text
    assert "ticket_high_baby_quality" in result.text and 'data-testid="verdict"' not in result.text
    urgent = {**FACTS, "ticket.threatens_escalation": True}
    result = client.post("/admin/policies/dry-run", data={**form, "facts": json.dumps(urgent)}, headers=headers)
    assert 'data-priority="urgent"' in result.text and "紧急" in result.text
    bad = client.post("/admin/policies/dry-run", data={**form, "facts": '{"ticket.kind": 1}'}, headers=headers)
    assert 'data-testid="dry-run-error"' in bad.text and "ticket.kind" in bad.text
    wrong = client.post("/admin/policies/dry-run", data={**form, "purpose": "bogus"}, headers=headers)
    assert 'data-testid="dry-run-error"' in wrong.text


def test_a_priority_policy_page_runs_its_own_purpose(client: TestClient, admin: str) -> None:
    sign_in(client, admin)
    page = client.get("/admin/policies/ticket_high_vip")
    assert page.status_code == 200 and "工单优先级" in page.text
    assert 'name="purpose" value="ticket_priority"' in page.text
    assert '"ticket.type": "complaint"' in html.unescape(page.text)  # the example facts fit the purpose


def test_the_api_dry_run_takes_the_purpose(client: TestClient, admin: str, factory: Factory) -> None:
    token = {"Authorization": f"Bearer {factory.token(admin)}"}
    body = {"facts": {**FACTS, "ticket.type": "consultation", "ticket.scenario": "consultation",
                      "ticket.scenario_group": "consultation"}, "purpose": "ticket_priority"}  # fmt: skip
    out = client.post("/api/v1/policies/dry-run", json=body, headers=token)
    assert out.status_code == 200 and out.json()["priority"] == "low"
    refused = client.post(
        "/api/v1/policies/dry-run", json={"order_number": "SO-1", "purpose": "ticket_priority"}, headers=token
    )
    assert refused.status_code == 422
