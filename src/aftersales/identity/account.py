"""The signed-in person's own account (/account): who they are, as they may see it."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.db.uow import Database
from aftersales.identity.repository import IdentityRepository
from aftersales.kit.access import Role
from aftersales.kit.masking import mask_email


@dataclass(frozen=True, slots=True)
class AccountOut:
    username: str
    display_name: str
    role: Role
    email_masked: str  # shown masked: the page can be seen over a shoulder or on a shared screen
    locale: str
    customer_id: int | None


def account_of(db: Database, user_id: int) -> AccountOut | None:
    with db.read() as uow:
        user = IdentityRepository(uow.session).user(user_id)
        if user is None or not user.active:
            return None
        return AccountOut(
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            email_masked=mask_email(user.email),
            locale=user.locale,
            customer_id=user.customer_id,
        )
