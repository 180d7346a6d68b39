"""Every query of the identity context."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from aftersales.identity.models import ApiToken, LoginAttempt, User


class IdentityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def user_by_username(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username == username))

    def users(self, role: str | None = None) -> list[User]:
        stmt = select(User).order_by(User.role, User.username)
        if role:
            stmt = stmt.where(User.role == role)
        return list(self.session.scalars(stmt))

    def token_by_digest(self, digest: str) -> ApiToken | None:
        return self.session.scalar(select(ApiToken).where(ApiToken.digest == digest))

    def tokens_of(self, user_id: int) -> list[ApiToken]:
        return list(self.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)))

    def token_by_prefix(self, prefix: str) -> ApiToken | None:
        return self.session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))

    def serialize_attempts(self, username: str) -> None:
        """Sign-in attempts for one name are counted one after another. SQLite already has one
        writer at a time; on PostgreSQL a transaction-scoped advisory lock does it."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"login:{username}"})

    def mark_attempt_succeeded(self, attempt_id: int) -> None:
        self.session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(succeeded=True))

    def failures_since(self, *, username: str | None = None, address: str | None = None, since: datetime) -> int:
        stmt = select(func.count(LoginAttempt.id)).where(
            LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since
        )
        if username is not None:
            stmt = stmt.where(LoginAttempt.username == username)
        if address is not None:
            stmt = stmt.where(LoginAttempt.address == address)
        return self.session.scalar(stmt) or 0

    def users_by_ids(self, ids: list[int]) -> list[User]:
        if not ids:
            return []
        return list(self.session.scalars(select(User).where(User.id.in_(ids))).all())

    def users_by_usernames(self, usernames: list[str]) -> list[User]:
        if not usernames:
            return []
        return list(self.session.scalars(select(User).where(User.username.in_(usernames))).all())
