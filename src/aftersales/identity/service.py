"""Use cases of identity: accounts, login with throttling, API tokens, principals."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.identity import domain
from aftersales.identity.models import ApiToken, LoginAttempt, User
from aftersales.identity.repository import IdentityRepository
from aftersales.identity.schemas import IssuedToken, UserOut
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from aftersales.kit.ids import new_token, token_digest
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of

_hasher = PasswordHasher()
# Verifying against a real hash when the user does not exist keeps response times alike.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def principal_of(user: User) -> Principal:
    role = Role(user.role)
    return Principal(
        user_id=user.id,
        username=user.username,
        role=role,
        display_name=user.display_name,
        customer_id=user.customer_id,
        merchant_id=user.merchant_id,
        rider_id=user.id if role is Role.RIDER else None,
    )


def create_user(
    db: Database,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    email: str = "",
    customer_id: int | None = None,
    merchant_id: int | None = None,
    locale: str = "zh-CN",
) -> UserOut:
    username = username.strip().lower()
    for problem in (
        domain.username_problem(username),
        domain.password_problem(password, username),
        domain.binding_problem(role, customer_id, merchant_id),
    ):
        if problem:
            raise Invalid(problem)
    with db.write() as uow:
        repo = IdentityRepository(uow.session)
        if repo.user_by_username(username):
            raise Conflict(f"The username '{username}' is taken; choose another.")
        user = User(
            username=username,
            display_name=display_name or username,
            email=email,
            password_hash=_hasher.hash(password),
            role=role.value,
            customer_id=customer_id,
            merchant_id=merchant_id,
            locale=locale,
            active=True,
            created_at=clock.now(),
        )
        repo.add(user)
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Conflict("That customer or merchant does not exist, or the username is taken.") from exc
        return UserOut.model_validate(user)


def authenticate(
    db: Database, username: str, password: str, address: str, *, max_failures: int, window_seconds: int
) -> Principal:
    """Check a password; refuse with 429 (and how long to wait) while this address, or this
    account from an address it has not signed in from, has failed too often (domain.login_wait).

    The attempt is written as a failure *before* the password is checked and turned into a
    success afterwards, so parallel guesses count against the limit while they are in flight.
    The slow argon2 check runs outside any write transaction, so sign-ins do not queue behind
    each other on SQLite's single writer.
    """
    username = username.strip().lower()
    address = address[:64]
    now = clock.now()
    with db.write() as uow:
        repo = IdentityRepository(uow.session)
        repo.serialize_attempts(username[:80], address)
        failures = _recent_failures(repo, username[:80], address, now, max_failures, window_seconds)
        wait = domain.login_wait(failures, now, max_failures, window_seconds)
        if wait > timedelta(0):
            minutes = domain.wait_minutes(wait)
            raise TooManyRequests(
                f"Too many failed sign-ins. Wait {minutes} minutes and try again.",
                retry_after=math.ceil(wait.total_seconds()),
                minutes=minutes,
            )
        attempt = LoginAttempt(username=username[:80], address=address, succeeded=False, attempted_at=now)
        repo.add(attempt)
        user = repo.user_by_username(username)
        stored_hash = user.password_hash if user else _DUMMY_HASH
        user_id = user.id if user is not None and user.active else None
        uow.commit()
        attempt_id = attempt.id
    ok = _verify(stored_hash, password) and user_id is not None
    if not ok:
        raise Unauthorized("The username or password is wrong.")
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(stored_hash) else None
    with db.write() as uow:
        repo = IdentityRepository(uow.session)
        repo.mark_attempt_succeeded(attempt_id)
        fresh = repo.user(user_id) if user_id is not None else None
        if fresh is None:
            raise Unauthorized("The username or password is wrong.")
        fresh.last_login_at = now
        if rehash:
            fresh.password_hash = rehash
        uow.commit()
        return principal_of(fresh)


def _recent_failures(
    repo: IdentityRepository, username: str, address: str, now: datetime, max_failures: int, window_seconds: int
) -> domain.RecentFailures:
    since = domain.window_start(now, window_seconds)
    wide = max_failures * domain.WIDE_LIMIT_FACTOR
    here = repo.last_success(username, address)
    anywhere = repo.last_success(username)
    return domain.RecentFailures(
        at_address=repo.recent_failures(
            since=since, limit=max_failures, after_id=here.id if here else 0, username=username, address=address
        ),
        from_address=repo.recent_failures(since=since, limit=wide, address=address),
        on_account=repo.recent_failures(
            since=since, limit=wide, after_id=anywhere.id if anywhere else 0, username=username
        ),
        known_address=here is not None and here.attempted_at >= now - timedelta(days=domain.KNOWN_ADDRESS_DAYS),
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def principal_for_user_id(db: Database, user_id: int) -> Principal | None:
    with db.read() as uow:
        user = IdentityRepository(uow.session).user(user_id)
        if user is None or not user.active:
            return None
        return principal_of(user)


def create_token(db: Database, username: str, name: str = "cli", scopes: Iterable[str] | None = None) -> IssuedToken:
    """Issue a bearer token limited to `scopes` (None: every scope the user's role may hold);
    only its digest is stored, so it is shown once."""
    token = new_token()
    with db.write() as uow:
        repo = IdentityRepository(uow.session)
        user = repo.user_by_username(username.strip().lower())
        if user is None:
            raise NotFound(f"No user named '{username}'.")
        role = Role(user.role)
        if scopes is None:
            granted = domain.scopes_for_role(role)
        else:
            names = [str(s) for s in scopes]
            if problem := domain.scope_problem(role, names):
                raise Invalid(problem[0].upper() + problem[1:] + ".")
            granted = domain.parse_scopes(names)[0]
        prefix = token[3:11]
        repo.add(
            ApiToken(
                user_id=user.id,
                name=name,
                prefix=prefix,
                digest=token_digest(token),
                scopes=domain.encode_scopes(granted),
                created_at=clock.now(),
            )
        )
        uow.commit()
        return IssuedToken(token=token, prefix=prefix, user=user.username, scopes=sorted(s.value for s in granted))


def revoke_token(db: Database, prefix: str) -> None:
    with db.write() as uow:
        token = IdentityRepository(uow.session).token_by_prefix(prefix)
        if token is None:
            raise NotFound(f"No token starting with '{prefix}'.")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
        uow.commit()


def principal_for_token(db: Database, token: str) -> Principal | None:
    with db.read() as uow:
        repo = IdentityRepository(uow.session)
        row = repo.token_by_digest(token_digest(token))
        if row is None or row.revoked_at is not None:
            return None
        user = repo.user(row.user_id)
        if user is None or not user.active:
            return None
        # A role changed since the token was issued narrows it: the token never does more than the role.
        scopes = domain.decode_scopes(row.scopes) & domain.scopes_for_role(Role(user.role))
        return replace(principal_of(user), scopes=scopes)


def list_users(db: Database, role: str | None = None) -> list[UserOut]:
    with db.read() as uow:
        return [UserOut.model_validate(u) for u in IdentityRepository(uow.session).users(role)]


def change_role(db: Database, user_id: int, role: Role, merchant_id: int | None, by: Principal) -> UserOut:
    with db.write() as uow:
        repo = IdentityRepository(uow.session)
        user = repo.user(user_id)
        if user is None:
            raise NotFound(f"No user #{user_id}.")
        if user.id == by.user_id and role is not Role.ADMIN:
            raise Conflict("You cannot remove your own administrator role; ask another administrator.")
        problem = domain.binding_problem(role, user.customer_id if role is Role.CUSTOMER else None, merchant_id)
        if problem:
            raise Invalid(problem)
        before = user.role
        user.role = role.value
        user.merchant_id = merchant_id
        if role is not Role.CUSTOMER:
            user.customer_id = None
        _audit(
            uow.session,
            user,
            by,
            "user.role_changed",
            before,
            role.value,
            f"merchant #{merchant_id}" if merchant_id else "",
        )
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Conflict(f"Merchant #{merchant_id} does not exist.") from exc
        return UserOut.model_validate(user)


def set_active(db: Database, user_id: int, active: bool, by: Principal) -> UserOut:
    with db.write() as uow:
        user = IdentityRepository(uow.session).user(user_id)
        if user is None:
            raise NotFound(f"No user #{user_id}.")
        if user.id == by.user_id and not active:
            raise Conflict("You cannot deactivate your own account.")
        before = "active" if user.active else "disabled"
        user.active = active
        _audit(uow.session, user, by, "user.activation_changed", before, "active" if active else "disabled", "")
        uow.commit()
        return UserOut.model_validate(user)


def set_locale(db: Database, user_id: int, locale: str) -> None:
    with db.write() as uow:
        user = IdentityRepository(uow.session).user(user_id)
        if user is not None:
            user.locale = locale
            uow.commit()


def _audit(session: Session, user: User, by: Principal, action: str, before: str, after: str, reason: str) -> None:
    """Administrators' changes to accounts go to the audit log (internal, never shown to customers)."""
    # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.USER,
            subject_id=user.id,
            action=action,
            actor=actor_of(by, admin_change=True),
            occurred_at=clock.now(),
            from_state=before,
            to_state=after,
            reason=reason or user.username,
            customer_visible=False,
        ),
    )


def user_locale(db: Database, user_id: int) -> str | None:
    with db.read() as uow:
        user = IdentityRepository(uow.session).user(user_id)
        return user.locale if user else None


def rider_user_id(session: Session, username: str) -> int | None:
    """Used by orders inside its own transaction to bind a shipment to a rider."""
    user = IdentityRepository(session).user_by_username(username.strip().lower())
    return user.id if user is not None and user.role == Role.RIDER.value else None


def count_users(db: Database) -> int:
    with db.read() as uow:
        return len(IdentityRepository(uow.session).users())


def display_names_in(session: Session, user_ids: list[int]) -> dict[int, str]:
    """Names to show for assignees, authors and viewers (other contexts hold only user ids)."""
    return {u.id: u.display_name or u.username for u in IdentityRepository(session).users_by_ids(sorted(set(user_ids)))}


def active_user_ids_by_username_in(session: Session, usernames: list[str]) -> dict[str, int]:
    """Active staff users by username, for @mentions."""
    return {
        u.username: u.id
        for u in IdentityRepository(session).users_by_usernames(usernames)
        if u.active and u.role != Role.CUSTOMER.value
    }


def principal_in(session: Session, user_id: int) -> Principal | None:
    user = IdentityRepository(session).user(user_id)
    return principal_of(user) if user is not None and user.active else None


def principal_for_username(db: Database, username: str) -> Principal | None:
    with db.read() as uow:
        user = IdentityRepository(uow.session).user_by_username(username)
        return principal_of(user) if user is not None and user.active else None


# The audit log names people by their user names, never by row id.
timeline.name_subjects(SubjectType.USER, lambda session, ids: IdentityRepository(session).usernames_by_id(ids))
