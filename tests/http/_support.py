"""Small helpers shared by the HTTP tests: tokens, CSRF, one account per role."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from aftersales.kit.access import Role

from ..factories import Factory, csrf_from, login

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer(factory: Factory, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {factory.token(username)}"}


def csrf_token(client: TestClient) -> str:
    """The CSRF token of the client's current session, read from any rendered page.

    Anonymous clients are sent on to the login page; signed-in ones get the orders page or a
    403 page, and every page carries the token in its <meta name="csrf-token">.
    """
    return csrf_from(client.get("/orders").text)


def sign_in(client: TestClient, username: str) -> str:
    """A fresh session for `username`; returns its CSRF token."""
    client.cookies.clear()
    login(client, username)
    return csrf_token(client)


def user_per_role(factory: Factory) -> dict[Role, str]:
    """One account for every role, bound as the role requires. Needs the catalogue and an order
    of customer C1 (for the customer account)."""
    names: dict[Role, str] = {}
    for role in Role:
        name = f"user-{role.value.replace('_', '-')}"
        if role is Role.CUSTOMER:
            factory.customer_user(name, "C1")
        elif role in (Role.MERCHANT, Role.WAREHOUSE):
            factory.merchant_user(name, "pop-a", role)
        else:
            factory.user(name, role)
        names[role] = name
    return names


def shipment(tracking: str, carrier: str = "SF") -> dict[str, Any]:
    return {"carrier": carrier, "tracking_number": tracking, "promised_at": "2026-11-03T10:00:00+08:00"}


def event(event_id: str, tracking: str, node: str, at: str, place: str = "上海", carrier: str = "SF") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "carrier": carrier,
        "tracking_number": tracking,
        "node": node,
        "occurred_at": at,
        "place": place,
    }


def flashed(client: TestClient, answer: Response) -> str:
    """The sentence a page action redirected with: it travels in the session (never the address),
    so follow the redirect and read the notice the page shows once."""
    assert answer.status_code == 303, answer.text
    assert "notice=" not in answer.headers["location"] and "error=" not in answer.headers["location"]
    page = client.get(answer.headers["location"]).text
    shown = re.search(r'data-testid="(?:order-notice|case-error|cases-notice)">([^<]*)<', page)
    assert shown, "the page does not show the message"
    return html.unescape(shown.group(1))
