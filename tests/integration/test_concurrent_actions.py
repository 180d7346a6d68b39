"""Two people acting on the same case or ticket at the same moment, each on their own database
connection (threads, one session each): exactly one wins, the other gets a 409 carrying the current
state and version, and money moves once. Run on PostgreSQL too (row locks are what is tested
there; SQLite has one writer at a time)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.repository import CasesRepository
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict
from aftersales.refunds.models import GatewayRefund, Refund
from aftersales.rules import service as rules
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, TicketAction
from aftersales.tickets.repository import TicketsRepository
from aftersales.tickets.schemas import ActionIn as TicketActionIn
from aftersales.tickets.schemas import TicketIn
from aftersales.worker import wiring

from ..factories import Factory
from .helpers import delivered_order


def who(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


@pytest.fixture
def shop(factory: Factory, db: Database, settings) -> Factory:  # type: ignore[no-untyped-def]
    wiring.connect(settings, db)
    rules.load_defaults(db)
    factory.catalogue()
    delivered_order(factory, db, "SO-X1")  # 2 × 199.00, paid 398.00
    factory.customer_user("lina", "C1")
    factory.user("agent-a", Role.AGENT_T1)
    factory.user("agent-b", Role.AGENT_T2)
    return factory


@pytest.fixture
def held_after_load(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[type, str], None]]:
    """Makes the racers meet right after each has read the record: each waits (up to a second) for
    the other before going on, so without a lock both act on what they read. A writer holding a row
    lock keeps the other from reading at all; then the wait times out and it goes on alone."""
    barrier = threading.Barrier(2)
    seen = threading.local()

    def hold(cls: type, name: str) -> None:
        original = getattr(cls, name)

        def loaded_then_wait(self: Any, *args: Any, **kwargs: Any) -> Any:
            found = original(self, *args, **kwargs)
            if not getattr(seen, "done", False):
                seen.done = True
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=1.0)
            return found

        monkeypatch.setattr(cls, name, loaded_then_wait)

    yield hold


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same time, one thread (and one database session) each; an exception is
    returned in place of the result."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the outcome is what the test looks at
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _refund_case(db: Database) -> cases.CaseOut:
    draft = CaseDraft(
        order_number="SO-X1",
        kind=CaseKind.REFUND_ONLY,
        reason=CaseReason.DEFECT,
        lines=[CaseLineIn(line_no=1, quantity=2)],
    )
    case = cases.submit(db, draft, who(db, "lina"), via="customer")
    assert case.status == "under_review"  # above the low-risk amount: a person reviews it
    return case


def _one_win_one_conflict(results: list[Any]) -> tuple[Any, Conflict]:
    conflicts = [r for r in results if isinstance(r, Conflict)]
    wins = [r for r in results if not isinstance(r, Exception)]
    assert (len(wins), len(conflicts)) == (1, 1), results
    return wins[0], conflicts[0]


@pytest.mark.parametrize("with_version", [True, False], ids=["same-version", "double-click"])
def test_two_agents_approving_a_refund_at_once_pay_it_once(
    shop: Factory, db: Database, held_after_load: Callable[[type, str], None], with_version: bool
) -> None:
    case = _refund_case(db)
    held_after_load(CasesRepository, "by_number")
    seen = case.version if with_version else None
    results = together(
        lambda: cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE, version=seen), who(db, "agent-a")),
        lambda: cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE, version=seen), who(db, "agent-b")),
    )
    won, refused = _one_win_one_conflict(results)
    current = refused.details["current"]
    assert current["number"] == case.number
    assert current["version"] > case.version and current["status"] != "under_review"
    with db.read() as uow:
        assert [r.amount for r in uow.session.scalars(select(Refund))] == [Decimal("398.00")]
        assert list(uow.session.scalars(select(GatewayRefund.amount))) == [Decimal("398.00")]
    assert won.approved_amount == Decimal("398.00")


def test_two_agents_acting_on_one_ticket_at_once_one_wins_one_gets_the_current_version(
    shop: Factory, db: Database, held_after_load: Callable[[type, str], None]
) -> None:
    opened = tickets.open_ticket(
        db, TicketIn(body="where is my parcel", channel=Channel.WEB, order_number="SO-X1"), who(db, "lina")
    )
    seen = tickets.get_ticket(db, opened.number, who(db, "agent-a")).version
    held_after_load(TicketsRepository, "by_number")
    results = together(
        lambda: tickets.act(
            db, opened.number, TicketActionIn(action=TicketAction.SOLVE, version=seen), who(db, "agent-a")
        ),
        lambda: tickets.act(
            db, opened.number, TicketActionIn(action=TicketAction.CLOSE, version=seen), who(db, "agent-b")
        ),
    )
    won, refused = _one_win_one_conflict(results)
    now = tickets.get_ticket(db, opened.number, who(db, "agent-a"))
    assert won.status in ("solved", "closed")
    assert refused.details["current"] == {"number": opened.number, "status": won.status, "version": won.version}
    assert (now.status, now.version) == (won.status, won.version)


def test_the_409_body_carries_the_current_state(shop: Factory, db: Database, client: TestClient) -> None:
    case = _refund_case(db)
    headers = {"Authorization": f"Bearer {shop.token('agent-a')}"}
    first = client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "approve"}, headers=headers)
    assert first.status_code == 200
    again = client.post(
        f"/api/v1/cases/{case.number}/actions", json={"action": "approve", "version": case.version}, headers=headers
    )
    assert again.status_code == 409
    body = again.json()
    now = client.get(f"/api/v1/cases/{case.number}", headers=headers).json()
    assert body["current"] == {"number": case.number, "status": now["status"], "version": now["version"]}
    assert "Reload" in body["message"]
