"""Compensation caps and escalated reviews through the real app: the API answers 422 with the
most that can still be claimed, the form says it in a sentence, supervisors find escalated
reviews on the cases list (filter, badge, alert) and /metrics counts escalations and failed
scan items."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from aftersales.cases import service as cases
from aftersales.cases.models import Case
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.rules import service as rules

from ..factories import Factory
from ._support import bearer, sign_in
from .test_cases_api import put_order

CLAIM = {"order_number": "SO-A", "kind": "compensation", "reason": "late_delivery"}


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    """Lina's SO-A and SO-C, 2 × 199.00 paid and delivered two days ago (cap 119.40 each)."""
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-A")
    put_order(factory, db, "SO-C")
    factory.customer_user("lina", "C1")
    factory.user("agent", Role.AGENT_T1)
    factory.user("boss", Role.SUPERVISOR)
    return factory


def test_the_api_refuses_a_claim_above_the_cap_with_422_and_the_maximum(client: TestClient, shop: Factory) -> None:
    lina = bearer(shop, "lina")
    huge = client.post("/api/v1/cases", json={**CLAIM, "compensation_amount": "1000000"}, headers=lina)
    assert huge.status_code == 422, huge.text
    body = huge.json()
    assert "119.40" in body["message"] and "SO-A" in body["message"]
    ok = client.post("/api/v1/cases", json={**CLAIM, "compensation_amount": "100"}, headers=lina)
    assert ok.status_code == 201 and ok.json()["status"] == "under_review"
    again = client.post("/api/v1/cases", json={**CLAIM, "compensation_amount": "100"}, headers=lina)
    assert again.status_code == 422 and "19.40" in again.json()["message"]
    preview = client.post("/api/v1/cases/preview", json={**CLAIM, "compensation_amount": "5"}, headers=lina).json()
    assert preview["compensation_cap"] == "119.40" and preview["compensation_claimable"] == "19.40"


def test_the_form_says_the_most_that_can_still_be_claimed(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    form = {"csrf_token": token, "kind": "compensation", "reason": "late_delivery", "compensation_amount": "1000000"}
    page = client.post("/orders/SO-A/after-sales", data=form, follow_redirects=False)
    assert page.status_code == 422
    text = html.unescape(page.text)
    assert "最多还可申请 ¥119.40" in text  # the page speaks the customer's language (zh-CN by default)
    preview = client.post(
        "/orders/SO-A/after-sales/preview", data={**form, "compensation_amount": "10"}, headers={"HX-Request": "true"}
    )
    assert 'data-testid="claimable"' in preview.text and "119.40" in preview.text


def test_supervisors_see_escalated_reviews_and_metrics_count_them(
    client: TestClient, shop: Factory, db: Database
) -> None:
    lina = bearer(shop, "lina")
    with clock.frozen_at(clock.now()):
        made = [
            client.post("/api/v1/cases", json={**CLAIM, "order_number": n, "compensation_amount": "10"}, headers=lina)
            for n in ("SO-A", "SO-C")
        ]
        escalated, broken = (m.json()["number"] for m in made)
        with db.write() as uow:  # a case no code can handle: the sweep must go past it
            uow.session.execute(update(Case).where(Case.number == broken).values(kind="bogus"))
            uow.commit()
        clock.advance(timedelta(hours=25))
        assert cases.sweep_due_reviews(db) == 1
    metrics = client.get("/metrics").text
    assert "aftersales_case_review_escalations_total" in metrics
    assert 'aftersales_scan_item_failures_total{scan="case_reviews"}' in metrics

    boss = bearer(shop, "boss")
    listed = client.get("/api/v1/cases", params={"escalated": "true"}, headers=boss).json()
    assert [c["number"] for c in listed["items"]] == [escalated] and listed["items"][0]["escalated"] is True
    sign_in(client, "boss")
    page = client.get("/cases", params={"escalated": "true"})
    assert escalated in page.text and 'data-testid="escalated"' in page.text
    assert 'sse-connect="/cases/stream"' in page.text
    alert = client.get("/cases/escalations")
    assert alert.status_code == 200 and "1 个售后审核已超时" in alert.text
    detail = client.get(f"/cases/{escalated}").text
    assert 'data-testid="case-escalated"' in detail and "审核超时，已转交主管处理" in detail
    # Customers get no supervisor alert.
    sign_in(client, "lina")
    assert client.get("/cases/escalations", follow_redirects=False).status_code in (302, 303, 403)


def test_the_dry_run_shows_the_compensation_cap(client: TestClient, shop: Factory) -> None:
    shop.user("root", Role.ADMIN)
    facts = {"case.kind": "compensation", "case.reason": "late_delivery", "order.total": 2000, "order.delivered": True}
    result = client.post("/api/v1/policies/dry-run", json={"facts": facts}, headers=bearer(shop, "root")).json()
    assert (result["cap_share_of_paid"], result["cap_amount"], result["compensation_cap"]) == ("0.3", "500", "500.00")
    assert "compensation_cap" in result["policy_keys"]


def test_the_dry_run_page_shows_the_cap_in_words(client: TestClient, shop: Factory) -> None:
    shop.user("root", Role.ADMIN)
    token = sign_in(client, "root")
    facts = '{"case.kind": "compensation", "case.reason": "late_delivery", "order.total": 398}'
    page = client.post(
        "/admin/policies/dry-run",
        data={"csrf_token": token, "mode": "facts", "facts": facts},
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 200, page.text
    cell = page.text.split('data-testid="compensation-cap">', 1)[1].split("</td>", 1)[0]
    assert "119.40" in cell and "实付金额的 30%" in cell and "500" in cell


def test_the_customer_can_state_the_compensation_amount_on_the_form(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    page = client.get("/orders/SO-A/after-sales").text
    field = re.search(r'<input[^>]*name="compensation_amount"[^>]*>', page)
    assert field is not None and 'type="hidden"' not in field.group(0)  # a person can fill it in
    form = {"csrf_token": token, "kind": "compensation", "reason": "late_delivery", "compensation_amount": "20"}
    made = client.post("/orders/SO-A/after-sales", data={**form, "qty_1": "0"}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/cases/AS")


def test_a_preview_above_the_cap_says_only_that_and_the_most_in_money(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    form = {"csrf_token": token, "kind": "compensation", "reason": "late_delivery", "compensation_amount": "10000"}
    preview = client.post("/orders/SO-A/after-sales/preview", data=form, headers={"HX-Request": "true"})
    text = html.unescape(preview.text)
    assert 'data-eligible="false"' in text
    assert "¥119.40" in text
    assert "CNY" not in text and "审核" not in text, text
