"""What identity's pages show that the orders context owns: the merchants (a merchant user belongs
to one) and a customer's contact and notice preferences (the account page).

A port: the composition root (main.create_app) binds it to orders.service on `app.state`, so
identity never imports orders (orders imports identity, to find a rider by name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from aftersales.db.uow import Database


class CustomerDirectory(Protocol):
    # The pages hand what comes back to their templates (merchants' id and name; a contact's name,
    # phone, email, tier and email_notices), hence Any rather than the orders context's types.
    def list_merchants(self, db: Database) -> Sequence[Any]: ...

    def customer_contact(self, db: Database, customer_id: int) -> Any | None: ...

    def set_contact_preferences(self, db: Database, customer_id: int, *, locale: str, email_notices: bool) -> None: ...
