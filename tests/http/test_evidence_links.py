"""Evidence links carry no script: only http(s) addresses and the platform's own uploads are
accepted (422 otherwise, over the API and the form), and links people typed open without handing
them our page (rel="noopener noreferrer nofollow")."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aftersales.cases.models import Case, CaseEvidence
from aftersales.db.uow import Database
from aftersales.knowledge import service as knowledge
from aftersales.knowledge.schemas import ArticleIn

from ..integration.helpers import ADMIN
from . import test_cases_api
from ._support import sign_in
from .test_cases_api import draft, submit
from .test_cases_pages import post

shop = test_cases_api.shop  # fixtures
people = test_cases_api.people

SCRIPTS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x.jpg",
    "/logout",
    "/cases/AS1/photos/../../admin/users",
    "https://",
    "http://exa mple.com/a.jpg",
]
FINE = [
    "https://img.example.com/a.jpg",
    "HTTP://img.example.com/b.png?size=2#top",
    "/cases/AS123/photos/0123456789abcdef0123456789abcdef.jpg",
]


@pytest.mark.parametrize("uri", SCRIPTS)
def test_a_case_with_a_script_or_foreign_path_as_evidence_is_422(
    client: TestClient, people: dict[str, Any], uri: str
) -> None:
    body = {**draft("SO-A"), "evidence": [{"kind": "photo", "uri": uri}]}
    response = client.post("/api/v1/cases", json=body, headers=people["lina"])
    assert response.status_code == 422, response.text
    assert "http" in response.text and "uri" in response.text
    assert client.get("/api/v1/cases", headers=people["lina"]).json()["items"] == []


@pytest.mark.parametrize("uri", FINE)
def test_web_addresses_and_our_own_uploads_are_accepted(client: TestClient, people: dict[str, Any], uri: str) -> None:
    body = {**draft("SO-A"), "evidence": [{"kind": "photo", "uri": uri}]}
    case = submit(client, people["lina"], body)
    assert [e["uri"] for e in case["evidence"]] == [uri]


def test_added_evidence_with_a_script_is_422(client: TestClient, people: dict[str, Any]) -> None:
    case = submit(client, people["lina"], draft("SO-A", quantity=2))
    response = client.post(
        f"/api/v1/cases/{case['number']}/actions",
        json={"action": "add_evidence", "evidence": [{"kind": "note", "uri": "javascript:alert(1)"}]},
        headers=people["lina"],
    )
    assert response.status_code == 422, response.text
    again = client.get(f"/api/v1/cases/{case['number']}", headers=people["lina"]).json()
    assert again["evidence"] == []


def test_the_form_refuses_a_script_link_with_a_message(client: TestClient, people: dict[str, Any]) -> None:
    token = sign_in(client, "lina")
    answer = post(
        client,
        "/orders/SO-A/after-sales",
        token,
        qty_1="1",
        kind="return_refund",
        reason="defect",
        return_method="mail_back",
        photo="javascript:alert(1)",
    )
    assert answer.status_code == 422
    assert "http" in answer.text
    assert 'href="javascript:' not in answer.text


def test_the_evidence_form_on_a_case_says_which_links_it_takes(client: TestClient, people: dict[str, Any]) -> None:
    number = submit(client, people["lina"], draft("SO-A"))["number"]
    token = sign_in(client, "lina")
    version = re.search(r'name="version" value="(\d+)"', client.get(f"/cases/{number}").text)
    assert version
    fields = {"action": "add_evidence", "version": version.group(1), "photo": "javascript:alert(1)"}
    answer = post(client, f"/cases/{number}/act", token, **fields)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"]).text
    assert "http:// or https://" in html.unescape(page)
    assert 'href="javascript:' not in page


def _store_evidence(db: Database, number: str, uri: str) -> None:
    """Evidence written before links were checked: the page must still not make it a link."""
    with db.write() as uow:
        case = uow.session.scalars(select(Case).where(Case.number == number)).one()
        uow.session.add(
            CaseEvidence(case_id=case.id, kind="note", uri=uri, added_by="lina", added_at=datetime.now(UTC))
        )
        uow.commit()


def test_the_case_page_links_only_safe_addresses_and_without_an_opener(
    client: TestClient, people: dict[str, Any], db: Database
) -> None:
    body = {**draft("SO-A"), "evidence": [{"kind": "photo", "uri": "https://img.example.com/a.jpg"}]}
    number = submit(client, people["lina"], body)["number"]
    _store_evidence(db, number, "javascript:alert(document.cookie)")
    sign_in(client, "lina")
    page = client.get(f"/cases/{number}").text
    assert "javascript:" not in re.findall(r'href="([^"]*)"', page).__str__()
    assert "javascript:alert(document.cookie)" in page  # still shown, as text
    link = re.search(r'<a href="https://img\.example\.com/a\.jpg"[^>]*>', page)
    assert link, page
    assert 'rel="noopener noreferrer nofollow"' in link.group(0)


def test_links_in_help_articles_open_without_an_opener(client: TestClient, db: Database) -> None:
    fields = ArticleIn(
        category="payments",
        title_zh="外部",
        title_en="Outside",
        body_zh="见[承运商](https://carrier.example/track)。",
        body_en="See [the carrier](https://carrier.example/track).",
    )
    knowledge.create(db, "outside", fields, ADMIN)
    page = client.get("/help/outside").text
    link = re.search(r'<a href="https://carrier\.example/track"[^>]*>', page)
    assert link, page
    assert 'rel="noopener noreferrer nofollow"' in link.group(0)
