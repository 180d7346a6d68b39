"""Every query of the identity context."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, text, update

from aftersales.db.repository import Repository
from aftersales.identity.models import ApiToken, LoginAttempt, User


class IdentityRepository(Repository):
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

    def serialize_attempts(self, username: str, address: str | None = None) -> None:
        """Sign-in attempts for one name (and from one address) are counted one after another.
        SQLite already has one writer at a time; on PostgreSQL transaction-scoped advisory locks
        do it, always the name's first, so two attempts never wait on each other in a circle."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"login:{username}"})
            if address is not None:
                self.session.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"login-address:{address}"}
                )

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

    def last_success(self, username: str, address: str | None = None) -> LoginAttempt | None:
        stmt = select(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.succeeded.is_(True))
        if address is not None:
            stmt = stmt.where(LoginAttempt.address == address)
        return self.session.scalar(stmt.order_by(LoginAttempt.id.desc()).limit(1))

    def recent_failures(
        self,
        *,
        since: datetime,
        limit: int,
        after_id: int = 0,
        username: str | None = None,
        address: str | None = None,
    ) -> list[datetime]:
        """Times of the newest failures (at most `limit`), newest first; `after_id` skips those
        before a success, which cleared them."""
        stmt = select(LoginAttempt.attempted_at).where(
            LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since, LoginAttempt.id > after_id
        )
        if username is not None:
            stmt = stmt.where(LoginAttempt.username == username)
        if address is not None:
            stmt = stmt.where(LoginAttempt.address == address)
        return list(self.session.scalars(stmt.order_by(LoginAttempt.attempted_at.desc()).limit(limit)))

    def users_by_ids(self, ids: list[int]) -> list[User]:
        if not ids:
            return []
        return list(self.session.scalars(select(User).where(User.id.in_(ids))).all())

    def users_by_usernames(self, usernames: list[str]) -> list[User]:
        if not usernames:
            return []
        return list(self.session.scalars(select(User).where(User.username.in_(usernames))).all())

    def usernames_by_id(self, user_ids: Collection[int]) -> dict[int, str]:
        rows = self.session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
        return {row_id: name for row_id, name in rows}
