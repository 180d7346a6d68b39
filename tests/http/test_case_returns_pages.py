"""The return leg on the case page: what the warehouse is offered before and after the customer
sends the goods back, and the refusal in words when it is tried too early."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from ..factories import Factory
from ._support import sign_in
from .test_cases_pages import act, request_case, sent_back, shop, status_on, version_on

__all__ = ["shop"]


def test_receipt_is_offered_only_once_the_customer_sent_the_goods(client: TestClient, shop: Factory) -> None:
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    token = sign_in(client, "whouse")
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-receive"' not in page
    refused = act(client, token, number, "receive", version=version_on(page))
    shown = client.get(refused.headers["location"]).text
    error = re.search(r'data-testid="case-error">([^<]+)<', shown)
    assert error and "not sent the goods back yet" in html.unescape(error.group(1))
    assert status_on(shown) == "awaiting_return"

    sent_back(client, sign_in(client, "lina"), number)
    token = sign_in(client, "whouse")
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-receive"' in page
    assert act(client, token, number, "receive", version=version_on(page)).status_code == 303
    assert status_on(client.get(f"/cases/{number}").text) == "received"
