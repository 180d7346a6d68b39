"""The survey over HTTP: the link from the email opens it with no password; forged, expired and used
links get a 4xx page in the reader's language; the answer shows on the ticket in the desk and on the
supervisors' CSAT page."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.tickets.domain import Channel

from ..factories import csrf_from, login
from . import test_surveys as shop
from .test_surveys import T0, _solve, _ticket, _token

desk = shop.desk  # the shop fixture: a delivered order, its customer, two agents and a supervisor

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def _answer(client: TestClient, token: str, **fields: object) -> object:
    page = client.get(f"/surveys/{token}", headers=EN)
    data = {"csrf_token": csrf_from(page.text), **fields} if page.status_code == 200 else fields
    return client.post(f"/surveys/{token}", data=data, headers=EN)


def test_the_link_opens_the_survey_without_a_password_and_it_is_answered_once(
    client: TestClient, db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(T0):
        number = _ticket(db, desk, Channel.CHAT)
        _solve(db, number, desk["agent1"])
        token = _token(db, number)
        page = client.get(f"/surveys/{token}", headers=ZH)
        assert page.status_code == 200
        assert "解决结果" in page.text and "响应速度" in page.text and "服务态度" in page.text
        assert 'name="viewport"' in page.text  # laid out for a phone
        english = client.get(f"/surveys/{token}", headers=EN)
        assert "how well was your problem solved" in english.text
        csrf = csrf_from(page.text)
        # No CSRF token: refused, nothing recorded.
        refused = client.post(f"/surveys/{token}", data={"result": "5", "speed": "5", "attitude": "5"})
        assert refused.status_code == 403
        # A score out of range: the form again, with the sentence that says what to fix.
        bad = client.post(
            f"/surveys/{token}",
            data={"csrf_token": csrf, "result": "5", "speed": "7", "attitude": "5"},
            headers=EN,
        )
        assert bad.status_code == 422 and "from 1 to 5" in bad.text and 'data-testid="survey"' in bad.text
        done = client.post(
            f"/surveys/{token}",
            data={
                "csrf_token": csrf,
                "result": "3",
                "speed": "4",
                "attitude": "5",
                "tags": ["not_solved", "too_many_steps"],
                "comment": "<script>alert(1)</script>还要再寄回去",
            },
            headers=ZH,
        )
        assert done.status_code == 200 and "感谢您的评价" in done.text
        again = client.post(
            f"/surveys/{token}",
            data={"csrf_token": csrf, "result": "1", "speed": "1", "attitude": "1"},
            headers=EN,
        )
        assert again.status_code == 409 and "already been answered" in again.text
        reopened = client.get(f"/surveys/{token}", headers=ZH)
        assert reopened.status_code == 409 and "已经答过了" in reopened.text

        # The agent sees the answer on the ticket (a fragment of its page); the comment is text.
        login(client, "agent1")
        sidebar = client.get(f"/desk/tickets/{number}/survey", headers=EN)
        assert sidebar.status_code == 200
        assert 'data-testid="survey-result"' in sidebar.text and "流程太复杂" in sidebar.text  # the agent reads zh-CN
        assert "<script>alert(1)</script>" not in sidebar.text and "&lt;script&gt;" in sidebar.text
        ticket_page = client.get(f"/desk/tickets/{number}", headers=EN)
        assert f"/desk/tickets/{number}/survey" in ticket_page.text
        assert client.get("/supervisor/csat", headers=EN).status_code == 403  # agents do not see the report


def test_forged_malformed_and_expired_links_get_a_clear_page_in_the_readers_language(
    client: TestClient, db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(T0):
        number = _ticket(db, desk, Channel.CHAT)
        _solve(db, number, desk["agent1"])
        token = _token(db, number)
        survey_id, expiry, mac = token.split(".")
        for forged in [
            f"{int(survey_id) + 1}.{expiry}.{mac}",
            f"{survey_id}.{int(expiry) + 86400}.{mac}",
            "1.2.3",
            "not-a-token",
            "x" * 5000,
            "%00%27%22",
        ]:
            en = client.get(f"/surveys/{forged}", headers=EN)
            assert en.status_code == 404, forged
            assert "This survey link is not valid" in en.text
            zh = client.get(f"/surveys/{forged}", headers=ZH)
            assert zh.status_code == 404 and "调查链接无效" in zh.text
            posted = client.post(f"/surveys/{forged}", data={"result": "5"}, headers=EN)
            assert posted.status_code in (403, 404)
        clock.advance(timedelta(days=7))
        expired = client.get(f"/surveys/{token}", headers=ZH)
        assert expired.status_code == 410 and "已过期" in expired.text
        assert client.get(f"/surveys/{token}", headers=EN).status_code == 410


def test_the_supervisors_page_lists_responses_by_agent_and_date_range(
    client: TestClient, db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(T0):
        for scores in (("5", "5", "5"), ("2", "4", "4")):
            number = _ticket(db, desk, Channel.CHAT)
            _solve(db, number, desk["agent1"])
            token = _token(db, number)
            page = client.get(f"/surveys/{token}", headers=EN)
            data = {"csrf_token": csrf_from(page.text), "result": scores[0], "speed": scores[1], "attitude": scores[2]}
            assert client.post(f"/surveys/{token}", data=data, headers=EN).status_code == 200
        login(client, "boss")
        page = client.get("/supervisor/csat", headers=EN)
        assert page.status_code == 200
        assert 'data-testid="total-responses">2<' in page.text
        assert 'data-testid="total-headline">50%<' in page.text  # (5,5,5) counts; (2,4,4) averages 3.3
        assert 'data-testid="total-result">50%<' in page.text and 'data-testid="total-speed">100%<' in page.text
        assert 'data-testid="total-rate">100%' in page.text
        assert page.text.count('data-testid="csat-response"') == 2 and 'data-agent="agent1"' in page.text
        day = T0.date()
        later = client.get(f"/supervisor/csat?from={day + timedelta(days=1)}&to={day + timedelta(days=2)}", headers=EN)
        assert later.status_code == 200 and 'data-testid="total-responses">0<' in later.text
        for query, words in [  # the supervisor reads zh-CN
            ("from=2026-13-01", "YYYY-MM-DD"),
            ("from=2026-11-20&to=2026-11-01", "结束日期不能早于开始日期"),
            ("from=2020-01-01&to=2026-11-01", "最长一年"),
        ]:
            bad = client.get(f"/supervisor/csat?{query}", headers=EN)
            assert bad.status_code == 422 and words in bad.text, query
        assert client.get("/supervisor/csat?from=" + "9" * 50).status_code == 422
