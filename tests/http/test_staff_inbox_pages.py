"""A supervisor's alerts over HTTP: the board listens live and shows them, the inbox lists them,
the nav counts them, and nobody else reads or marks them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Role
from aftersales.notifications import service as notifications

from ..factories import Factory
from ._support import sign_in


def _alert(db: Database, factory: Factory) -> tuple[int, int]:
    boss = factory.user("boss", Role.SUPERVISOR)
    factory.user("boss2", Role.SUPERVISOR)
    factory.user("agent", Role.AGENT_T1)
    notifications.alert_staff(
        db, [(boss.id, "en")], "staff.sla_breached", {"ticket": "TK2612070001", "metric": "resolution"}, "k:1"
    )
    message = notifications.staff_inbox(db, boss.id).items[0]
    return boss.id, message.id


def test_the_supervisor_sees_the_alert_on_the_board_and_in_the_inbox(
    client: TestClient, db: Database, factory: Factory
) -> None:
    _, message_id = _alert(db, factory)
    token = sign_in(client, "boss")
    board = client.get("/supervisor").text
    assert 'sse-connect="/supervisor/stream"' in board and 'hx-get="/inbox/alerts"' in board
    alerts = client.get("/inbox/alerts", headers={"HX-Request": "true"}).text
    assert 'data-testid="staff-alert"' in alerts and "/desk/tickets/TK2612070001" in alerts
    assert "TK2612070001" in client.get("/inbox").text
    assert ">1<" in client.get("/inbox/badge").text
    assert (
        client.post(f"/inbox/{message_id}/read", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    assert 'data-testid="staff-alert"' not in client.get("/inbox/alerts").text


def test_nobody_else_reads_or_marks_a_supervisors_alert(client: TestClient, db: Database, factory: Factory) -> None:
    boss_id, message_id = _alert(db, factory)
    token = sign_in(client, "boss2")
    assert "TK2612070001" not in client.get("/inbox").text
    assert client.post(f"/inbox/{message_id}/read", data={"csrf_token": token}).status_code == 404
    sign_in(client, "agent")
    assert client.get("/inbox/alerts").status_code == 403
    assert identity.principal_for_user_id(db, boss_id) is not None
    assert notifications.staff_unread_count(db, boss_id) == 1
