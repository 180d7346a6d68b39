"""Doors on the supervisor's and the administrator's pages: ticket numbers lead to the ticket,
reassigning offers only people who may work the queue, the audit log comes in pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Role
from aftersales.routing import service as routing
from aftersales.routing.domain import AgentStatus, RoutableWork
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Actor, ActorKind, Entry, SubjectType

from ..factories import Factory
from ._support import sign_in

HX = {"HX-Request": "true"}


@pytest.fixture
def staff(db: Database, factory: Factory) -> dict[str, int]:
    factory.catalogue()
    ids = {
        "agent-one": factory.user("agent-one", Role.AGENT_T1, display_name="张敏").id,
        "agent-two": factory.user("agent-two", Role.AGENT_T1, display_name="王芳").id,
        "boss": factory.user("boss", Role.SUPERVISOR).id,
        "shop": factory.merchant_user("shop", "pop-a").id,
        "shop-two": factory.merchant_user("shop-two", "pop-a").id,
    }
    routing.ensure_defaults(db)
    with db.write() as uow:
        for user_id in ids.values():
            if user_id != ids["boss"]:
                routing.set_status(uow.session, user_id, AgentStatus.ONLINE)
        uow.commit()
    return ids


def enqueue(db: Database, ref: str, group_key: str | None = None) -> None:
    with db.write() as uow:
        routing.enqueue(uow.session, RoutableWork("ticket", ref, group_key=group_key))
        uow.commit()


def options_of(page: str, ref: str) -> set[str]:
    row = page[page.index(f'data-ref="{ref}"') :].split("</tr>")[0]
    return set(re.findall(r'<option value="(\d+)"', row))


def test_ticket_numbers_on_the_board_lead_to_the_ticket(
    client: TestClient, db: Database, staff: dict[str, int]
) -> None:
    enqueue(db, "T-1")
    sign_in(client, "boss")
    page = client.get("/supervisor").text
    assert '<a href="/desk/tickets/T-1" data-testid="work-link"><code>T-1</code></a>' in page


def test_reassign_offers_platform_staff_for_platform_work_and_the_merchants_own_for_its_queue(
    client: TestClient, db: Database, staff: dict[str, int]
) -> None:
    enqueue(db, "T-1")
    merchant_queue = next(g.key for g in routing.group_options(db) if g.key.startswith("merchant-"))
    enqueue(db, "T-2", group_key=merchant_queue)
    token = sign_in(client, "boss")
    page = client.get("/supervisor").text
    platform, shop = {str(staff["agent-one"]), str(staff["agent-two"])}, {str(staff["shop"]), str(staff["shop-two"])}
    assert options_of(page, "T-1") & shop == set() and options_of(page, "T-1") & platform
    assert options_of(page, "T-2") & platform == set() and options_of(page, "T-2") & shop

    # The server holds the same line when a form is forged.
    form = {"csrf_token": token, "kind": "ticket", "ref": "T-1", "to_user_id": str(staff["shop"])}
    refused = client.post("/supervisor/reassign", data=form, headers=HX)
    assert "work in a platform queue goes to platform staff only" in refused.text
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-1")
    assert work is not None and work.assigned_to != staff["shop"]
    form = {**form, "ref": "T-2", "to_user_id": str(staff["agent-one"])}
    refused = client.post("/supervisor/reassign", data=form, headers=HX)
    assert "goes to its own staff only" in refused.text


def test_the_audit_log_comes_in_pages(client: TestClient, db: Database, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    actor = Actor(ActorKind.SYSTEM, SYSTEM.display_name, None)
    with db.write() as uow:
        for n in range(120):
            entry = Entry(SubjectType.ORDER, n + 1, "order.revised", actor, clock.now(), reason=f"revision {n}")
            timeline.record(uow.session, entry)
        uow.commit()
    sign_in(client, "root")
    first = client.get("/admin/audit").text
    assert first.count('data-testid="audit-row"') == 50
    assert "revision 119" in first and "revision 69" not in first
    assert 'href="/admin/audit?subject=&amp;page=2"' in first or 'href="/admin/audit?subject=&page=2"' in first
    third = client.get("/admin/audit", params={"page": 3}).text
    rows = third.count('data-testid="audit-row"')
    assert rows >= 20 and "revision 0<" in third.replace("revision 0</td>", "revision 0<")
    filtered = client.get("/admin/audit", params={"subject": "order", "page": 2}).text
    assert 'href="/admin/audit?subject=order&amp;page=1"' in filtered or "subject=order&page=1" in filtered


def test_the_audit_log_reads_in_the_order_things_happened(client: TestClient, db: Database, factory: Factory) -> None:
    """Rows written out of time order (a late scan, a back-dated import) still read newest first by
    when they happened; entries of the same moment keep the order they were written in."""
    factory.user("root", Role.ADMIN)
    actor = Actor(ActorKind.SYSTEM, SYSTEM.display_name, None)
    now = clock.now()
    written = [("happened-second", now - timedelta(hours=2)), ("happened-first", now - timedelta(days=3))]
    written += [("happened-last-a", now), ("happened-last-b", now), ("happened-third", now - timedelta(hours=1))]
    with db.write() as uow:
        for n, (reason, at) in enumerate(written):
            timeline.record(uow.session, Entry(SubjectType.ORDER, n + 1, "order.revised", actor, at, reason=reason))
        uow.commit()
    sign_in(client, "root")
    page = client.get("/admin/audit").text
    seen = re.findall(r"happened-[a-z-]+", page)
    order = list(dict.fromkeys(seen))
    assert order == ["happened-last-b", "happened-last-a", "happened-third", "happened-second", "happened-first"]
