"""The policy pages: the list, one policy's editor with its refusals, and the htmx dry run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.main import create_app
from aftersales.rules import api as rules_api
from aftersales.rules import service
from aftersales.rules import web as rules_web

from ..factories import Factory
from ._support import sign_in

try:  # FastAPI >= 0.16x keeps included routers nested; this walks them with their full paths.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens include_router into app.routes

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[no-redef]
        return iter(routes)


def rules_app(settings: Settings) -> FastAPI:
    """The app with the rules routers, whether or not main.py mounts them yet."""
    app = create_app(settings)
    paths = {getattr(route, "path", "") for route in iter_route_contexts(app.routes)}
    if "/api/v1/policies" not in paths:
        app.include_router(rules_api.router, prefix="/api/v1")
    if "/admin/policies" not in paths:
        app.include_router(rules_web.router)
    return app


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    service.load_defaults(db)
    return rules_app(settings)


@pytest.fixture
def staff(factory: Factory) -> dict[Role, str]:
    names = {}
    for role in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT_T1):
        names[role] = f"user-{role.value.replace('_', '-')}"
        factory.user(names[role], role)
    return names


def textarea(html: str) -> str:
    match = re.search(r'<textarea name="definition"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, "no definition textarea"
    return match.group(1)


def test_strangers_and_agents_cannot_open_the_policy_pages(client: TestClient, staff: dict[Role, str]) -> None:
    anonymous = client.get("/admin/policies", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    sign_in(client, staff[Role.AGENT_T1])
    assert client.get("/admin/policies").status_code == 403
    assert client.get("/admin/policies/quality_30").status_code == 403


def test_admin_sees_every_policy_in_chinese_and_english(client: TestClient, staff: dict[Role, str]) -> None:
    sign_in(client, staff[Role.ADMIN])
    page = client.get("/admin/policies")
    assert page.status_code == 200
    rows = re.findall(r'data-testid="policy-row" data-key="([^"]+)"', page.text)
    assert rows[0] == "compensation_cap" and rows[-1] == "catch_all_refuse" and len(rows) >= 20
    assert "售后策略" in page.text and "七天无理由退换货" in page.text and "全部商家" in page.text
    assert "rules." not in re.sub(r"<[^>]+>", "", page.text)  # every key is translated
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": sign_in(client, staff[Role.ADMIN])})
    english = client.get("/admin/policies")
    assert "Policies" in english.text and "7-day no-reason returns" in english.text and "售后策略" not in english.text
    assert "rules." not in re.sub(r"<[^>]+>", "", english.text)


def test_policy_page_shows_the_definition_as_json(client: TestClient, staff: dict[Role, str]) -> None:
    sign_in(client, staff[Role.ADMIN])
    page = client.get("/admin/policies/quality_30")
    assert page.status_code == 200 and 'data-testid="save-policy"' in page.text
    shown = json.loads(textarea(page.text).replace("&#34;", '"').replace("&quot;", '"'))
    assert shown == service.get_policy(client.app.state.db, "quality_30").definition  # type: ignore[attr-defined]
    assert client.get("/admin/policies/nope").status_code == 404


def test_admin_saves_an_edit(client: TestClient, staff: dict[Role, str], db: Database) -> None:
    csrf = sign_in(client, staff[Role.ADMIN])
    definition = json.dumps(
        {"when": {"attr": "case.kind", "op": "eq", "value": "repair"}, "then": {"approval": "auto"}}
    )
    form = {"csrf_token": csrf, "definition": definition, "priority": "39", "version": "1"}
    saved = client.post("/admin/policies/quality_30", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/policies/quality_30?notice=saved"
    policy = service.get_policy(db, "quality_30")
    assert policy.priority == 39 and policy.enabled is False and policy.version == 2  # unchecked box: off
    assert "策略已保存" in client.get(saved.headers["location"]).text


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ('{"when": {}, "then": ', "not valid JSON"),
        ('{"when": {}, "then": {"approval": "soon"}}', "then.approval: use auto or review"),
        ('{"when": {"attr": "case.kind", "op": "eq", "value": "retrun"}, "then": {"approval": "auto"}}', "retrun"),
    ],
)
def test_a_bad_definition_is_refused_with_the_reason_and_kept_for_fixing(
    client: TestClient, staff: dict[Role, str], db: Database, definition: str, message: str
) -> None:
    csrf = sign_in(client, staff[Role.ADMIN])
    form = {"csrf_token": csrf, "definition": definition, "priority": "40", "enabled": "on", "version": "1"}
    refused = client.post("/admin/policies/quality_30", data=form)
    assert refused.status_code == 422
    assert message in refused.text and "未保存" in refused.text
    assert json.dumps(definition)[1:-1].replace('\\"', "&#34;") in refused.text  # the text is kept
    assert service.get_policy(db, "quality_30").version == 1


def test_a_stale_edit_is_a_conflict(client: TestClient, staff: dict[Role, str], db: Database) -> None:
    csrf = sign_in(client, staff[Role.ADMIN])
    definition = json.dumps(service.get_policy(db, "quality_30").definition)
    form = {"csrf_token": csrf, "definition": definition, "priority": "41", "enabled": "on", "version": "1"}
    assert client.post("/admin/policies/quality_30", data=form, follow_redirects=False).status_code == 303
    stale = client.post("/admin/policies/quality_30", data={**form, "priority": "42"})
    assert stale.status_code == 409 and "now version 2" in stale.text
    assert service.get_policy(db, "quality_30").priority == 41


def test_saving_needs_csrf_and_an_administrator(client: TestClient, staff: dict[Role, str], db: Database) -> None:
    sign_in(client, staff[Role.ADMIN])
    form = {"definition": '{"then": {"approval": "auto"}}', "priority": "1", "version": "1"}
    assert client.post("/admin/policies/quality_30", data=form).status_code == 403
    csrf = sign_in(client, staff[Role.SUPERVISOR])
    page = client.get("/admin/policies/quality_30")
    assert page.status_code == 200 and "save-policy" not in page.text and "readonly" in page.text
    assert client.post("/admin/policies/quality_30", data={**form, "csrf_token": csrf}).status_code == 403
    assert service.get_policy(db, "quality_30").version == 1


def dry(client: TestClient, csrf: str, htmx: bool = True, **form: Any) -> Any:
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf} if htmx else {}
    return client.post("/admin/policies/dry-run", data={"csrf_token": csrf, **form}, headers=headers)


FACTS = {
    "order.delivered": True,
    "order.days_since_receipt": 7,
    "case.kind": "return_refund",
    "case.reason": "changed_mind",
    "case.amount": 99,
    "customer.past_returns": 0,
    "customer.tier": "vip",
}


def test_dry_run_on_facts_shows_the_whole_decision(client: TestClient, staff: dict[Role, str]) -> None:
    csrf = sign_in(client, staff[Role.SUPERVISOR])
    result = dry(client, csrf, mode="facts", facts=json.dumps(FACTS))
    assert result.status_code == 200 and "<html" not in result.text
    assert 'data-eligible="true"' in result.text
    assert "七天无理由" in result.text and "7-day no-reason return" in result.text
    assert "自动通过" in result.text and "买家" in result.text  # approval, who pays
    assert "免退货运费" not in result.text  # offer shipped switched off: nothing waives return shipping
    assert "加赠优惠券" in result.text  # the wallet issues the VIP members' extra coupon
    assert "no_reason_7_days" in result.text and "order.days_since_receipt" in result.text
    late = dry(client, csrf, mode="facts", facts=json.dumps({**FACTS, "order.days_since_receipt": 8}))
    assert 'data-eligible="false"' in late.text and "no_reason_after_7_days" in late.text


def test_dry_run_errors_come_back_in_the_fragment(client: TestClient, staff: dict[Role, str]) -> None:
    csrf = sign_in(client, staff[Role.ADMIN])
    broken = dry(client, csrf, mode="facts", facts="{nope")
    assert (
        broken.status_code == 200 and 'data-testid="dry-run-error"' in broken.text and "not valid JSON" in broken.text
    )
    unknown = dry(client, csrf, mode="facts", facts='{"case.colour": "red"}')
    assert "unknown attribute" in unknown.text
    missing = dry(client, csrf, mode="order", order_number="", kind="exchange", reason="defect")
    assert "订单号" in missing.text and "Value error" not in missing.text  # the form's own label
    page = dry(client, csrf, htmx=False, mode="facts", facts="[1]")
    assert page.status_code == 422 and "<html" in page.text and "JSON object" in page.text


def test_dry_run_on_a_real_order_line(client: TestClient, staff: dict[Role, str], factory: Factory) -> None:
    pytest.importorskip("aftersales.cases.service")
    factory.catalogue()
    factory.put_order(number="SO-DRY", status="paid")
    csrf = sign_in(client, staff[Role.ADMIN])
    form = {"mode": "order", "order_number": "SO-DRY", "line_no": "1", "quantity": "1"}
    ok = dry(client, csrf, **form, kind="refund_only", reason="out_of_stock", policy_key="refund_before_shipment")
    assert 'data-eligible="true"' in ok.text and "refund_before_shipment" in ok.text and "已命中" in ok.text
    refused = dry(client, csrf, **form, kind="exchange", reason="defect")
    assert 'data-eligible="false"' in refused.text and "包裹还未送达" in refused.text
    unknown = dry(client, csrf, **{**form, "order_number": "SO-NONE"}, kind="exchange", reason="defect")
    assert 'data-testid="dry-run-error"' in unknown.text and "SO-NONE" in unknown.text
