"""The demo shop tells the truth about its people: the English demo customer's notices are English."""

from __future__ import annotations

import io

from rich.console import Console

from aftersales.db.uow import Database
from aftersales.demo.seed import seed_demo
from aftersales.orders import service as orders


def test_the_english_demo_customer_gets_her_notices_in_english(db: Database) -> None:
    seed_demo(db, customers=5, orders=12, seed=7, console=Console(file=io.StringIO()))
    emma = orders.customer_id_for(db, "C0002")
    assert emma is not None
    contact = orders.customer_contact(db, emma)
    assert contact is not None and contact.locale == "en"
