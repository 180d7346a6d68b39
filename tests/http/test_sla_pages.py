"""The SLA admin pages: who may open and change them, the matrix editor with its refusals and
version conflict, public days with the notice for a year past the Chinese calendar data, and a
calendar's periods, closures and deadline preview."""

from __future__ import annotations

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
from aftersales.sla import admin
from aftersales.sla import web as sla_web

from ..factories import Factory
from ._support import sign_in

try:  # FastAPI >= 0.16x keeps included routers nested; this walks them with their full paths.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens include_router into app.routes

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[no-redef]
        return iter(routes)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    admin.load_defaults(db)
    application = create_app(settings)
    if "/admin/sla" not in {getattr(r, "path", "") for r in iter_route_contexts(application.routes)}:
        application.include_router(sla_web.router)
    return application


@pytest.fixture
def staff(factory: Factory) -> dict[Role, str]:
    names = {}
    for role in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT_T1):
        names[role] = f"user-{role.value.replace('_', '-')}"
        factory.user(names[role], role)
    return names


def policy_id(db: Database, cell: str) -> tuple[int, int]:
    policy = next(p for p in admin.list_policies(db) if f"{p.ticket_type}/{p.priority}/{p.metric}" == cell)
    return policy.id, policy.version


def test_strangers_agents_and_supervisors(client: TestClient, staff: dict[Role, str], db: Database) -> None:
    anonymous = client.get("/admin/sla", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    sign_in(client, staff[Role.AGENT_T1])
    assert client.get("/admin/sla").status_code == 403
    token = sign_in(client, staff[Role.SUPERVISOR])
    page = client.get("/admin/sla")
    assert page.status_code == 200
    assert 'data-testid="sla-policy-form"' not in page.text  # supervisors read only
    pid, _version = policy_id(db, "complaint/medium/first_response")
    refused = client.post(f"/admin/sla/policies/{pid}", data={"csrf_token": token, "target_minutes": "5"})
    assert refused.status_code == 403


def test_admin_edits_a_target_with_checks_and_version_conflict(
    client: TestClient, staff: dict[Role, str], db: Database
) -> None:
    token = sign_in(client, staff[Role.ADMIN])
    pid, version = policy_id(db, "complaint/medium/first_response")
    form = {
        "csrf_token": token,
        "target_minutes": "45",
        "warn_percent": "75",
        "business_hours": "on",
        "calendar_key": "platform",
        "version": str(version),
    }
    saved = client.post(f"/admin/sla/policies/{pid}", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert policy_id(db, "complaint/medium/first_response")[1] == version + 1
    stale = client.post(f"/admin/sla/policies/{pid}", data={**form, "target_minutes": "50"})
    assert stale.status_code == 409 and "Reload the page" in stale.text
    bad = client.post(f"/admin/sla/policies/{pid}", data={**form, "target_minutes": "soon", "version": ""})
    assert bad.status_code == 422 and "whole number" in bad.text
    low = client.post(f"/admin/sla/policies/{pid}", data={**form, "warn_percent": "100", "version": ""})
    assert low.status_code == 422
    unknown = client.post("/admin/sla/policies/999999", data={**form, "version": ""})
    assert unknown.status_code == 404
    no_csrf = client.post(f"/admin/sla/policies/{pid}", data={**form, "csrf_token": ""})
    assert no_csrf.status_code == 403


def test_2027_notice_and_public_days(client: TestClient, staff: dict[Role, str], db: Database) -> None:
    token = sign_in(client, staff[Role.ADMIN])
    page = client.get("/admin/sla", headers={"accept-language": "en"})
    # Today is in 2026, so next year is past the package's data.
    assert 'data-testid="fallback-notice"' in page.text
    assert "enter the State Council" in page.text or "国务院" in page.text
    saved = client.post(
        "/admin/sla/public-days",
        data={"csrf_token": token, "day": "2027-02-06", "kind": "workday", "name": "春节调休"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "2027-02-06" in client.get("/admin/sla").text
    bad = client.post("/admin/sla/public-days", data={"csrf_token": token, "day": "next spring", "kind": "holiday"})
    assert bad.status_code == 422 and "2027-02-06" in bad.text  # the sentence shows the format
    removed = client.post(
        "/admin/sla/public-days/2027-02-06/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert admin.list_public_days(db) == []


def test_calendar_periods_closures_and_preview(client: TestClient, staff: dict[Role, str], db: Database) -> None:
    token = sign_in(client, staff[Role.ADMIN])
    page = client.get("/admin/sla/calendars/platform")
    assert page.status_code == 200 and "09:00-12:00, 13:30-18:00" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    form = {f"periods_{d}": "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    form.update(
        {"csrf_token": token, "time_zone": "Asia/Shanghai", "chinese_holidays": "on", "version": version.group(1)}
    )
    assert client.post("/admin/sla/calendars/platform", data=form, follow_redirects=False).status_code == 303
    broken = client.post("/admin/sla/calendars/platform", data={**form, "periods_mon": "9 to 5", "version": ""})
    assert broken.status_code == 422 and "9 to 5" in broken.text
    stale = client.post("/admin/sla/calendars/platform", data=form)
    assert stale.status_code == 409
    current = admin.list_calendars(db)[1]
    closure = {
        "csrf_token": token,
        "start": "2027-01-04T09:00",
        "end": "2027-01-04T12:00",
        "note": "move",
        "version": str(current.version),
    }
    assert (
        client.post("/admin/sla/calendars/platform/closures", data=closure, follow_redirects=False).status_code == 303
    )
    backwards = client.post(
        "/admin/sla/calendars/platform/closures", data={**closure, "end": "2027-01-03T09:00", "version": ""}
    )
    assert backwards.status_code == 422
    preview = client.get("/admin/sla/calendars/platform", params={"start": "2027-01-04T09:00", "minutes": "60"})
    assert 'data-testid="preview-result"' in preview.text
    assert client.get("/admin/sla/calendars/platform", params={"start": "soon", "minutes": "60"}).status_code == 200
    assert client.get("/admin/sla/calendars/nowhere").status_code == 404
