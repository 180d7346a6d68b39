"""Accounts, sign-in with throttling, and API tokens, against the real database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.identity.models import LoginAttempt, User
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized

from ..factories import PASSWORD, Factory
from .helpers import ADMIN

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def sign_in(db: Database, username: str, password: str, address: str = "10.0.0.1") -> Principal:
    return identity.authenticate(db, username, password, address, max_failures=5, window_seconds=900)


def failed_attempts(db: Database) -> int:
    with db.read() as uow:
        return uow.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.succeeded.is_(False))) or 0


# --- accounts -----------------------------------------------------------------------------------
def test_create_user_normalises_the_username_and_defaults_the_display_name(db: Database) -> None:
    user = identity.create_user(db, username="  Agent.Li ", password=PASSWORD, role=Role.AGENT_T1)
    assert (user.username, user.display_name, user.role, user.active) == ("agent.li", "agent.li", Role.AGENT_T1, True)
    assert [u.username for u in identity.list_users(db)] == ["agent.li"]


def test_the_password_itself_is_never_stored(db: Database) -> None:
    identity.create_user(db, username="agent-1", password=PASSWORD, role=Role.AGENT_T1)
    with db.read() as uow:
        stored = uow.session.scalar(select(User.password_hash))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_taken_username_is_a_conflict_whatever_the_case(db: Database) -> None:
    identity.create_user(db, username="lina", password=PASSWORD, role=Role.AGENT_T1)
    with pytest.raises(Conflict, match="The username 'lina' is taken"):
        identity.create_user(db, username="LiNa", password="another-pass-1", role=Role.ADMIN)
    assert identity.count_users(db) == 1


def test_a_customer_account_without_a_customer_record_is_invalid(db: Database) -> None:
    with pytest.raises(Invalid, match="must be linked to a customer record"):
        identity.create_user(db, username="lina", password=PASSWORD, role=Role.CUSTOMER)
    assert identity.count_users(db) == 0


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("ab", PASSWORD, Role.AGENT_T1, "3-40 lowercase"),
        ("agent-1", "short", Role.AGENT_T1, "at least 8 characters"),
        ("agent-one", "agent-one", Role.AGENT_T1, "differ from the username"),
        ("shop-1", PASSWORD, Role.MERCHANT, "bound to one merchant"),
    ],
)
def test_invalid_accounts_are_refused_with_a_reason(
    db: Database, username: str, password: str, role: Role, message: str
) -> None:
    with pytest.raises(Invalid, match=message):
        identity.create_user(db, username=username, password=password, role=role)


def test_binding_to_a_merchant_that_does_not_exist_is_a_conflict(db: Database) -> None:
    with pytest.raises(Conflict, match="does not exist"):
        identity.create_user(db, username="shop-1", password=PASSWORD, role=Role.MERCHANT, merchant_id=999)
    assert identity.count_users(db) == 0


def test_bound_accounts_carry_their_binding_into_the_principal(factory: Factory, db: Database) -> None:
    factory.catalogue()
    factory.put_order()
    customer = factory.customer_user("lina", "C1")
    merchant = factory.merchant_user("shop-a", "pop-a")
    rider = factory.user("rider-wang", Role.RIDER)
    as_customer = identity.principal_for_user_id(db, customer.id)
    as_merchant = identity.principal_for_user_id(db, merchant.id)
    as_rider = identity.principal_for_user_id(db, rider.id)
    assert as_customer is not None and as_customer.customer_id == customer.customer_id is not None
    assert as_merchant is not None and as_merchant.merchant_id == merchant.merchant_id is not None
    assert as_rider is not None and as_rider.rider_id == rider.id


# --- sign-in ------------------------------------------------------------------------------------
def test_the_right_password_signs_in_and_stamps_the_login_time(factory: Factory, db: Database) -> None:
    user = factory.user("agent-1", Role.AGENT_T1)
    with clock.frozen_at(NOW):
        principal = sign_in(db, " Agent-1 ", PASSWORD)
    assert (principal.user_id, principal.username, principal.role) == (user.id, "agent-1", Role.AGENT_T1)
    assert [u.last_login_at for u in identity.list_users(db)] == [NOW]


def test_a_deactivated_user_cannot_sign_in_even_with_the_right_password(factory: Factory, db: Database) -> None:
    user = factory.user("agent-1", Role.AGENT_T1)
    identity.set_active(db, user.id, False, ADMIN)
    with pytest.raises(Unauthorized):
        sign_in(db, "agent-1", PASSWORD)
    identity.set_active(db, user.id, True, ADMIN)
    assert sign_in(db, "agent-1", PASSWORD).user_id == user.id


def test_a_wrong_password_is_unauthorized_and_recorded(factory: Factory, db: Database) -> None:
    factory.user("agent-1", Role.AGENT_T1)
    with pytest.raises(Unauthorized, match="The username or password is wrong"):
        sign_in(db, "agent-1", "wrong-password")
    assert failed_attempts(db) == 1


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(db: Database) -> None:
    with pytest.raises(Unauthorized, match="The username or password is wrong"):
        sign_in(db, "nobody", PASSWORD)
    assert failed_attempts(db) == 1


def test_after_five_failures_even_the_right_password_is_refused(factory: Factory, db: Database) -> None:
    factory.user("agent-1", Role.AGENT_T1)
    with clock.frozen_at(NOW):
        for _ in range(5):
            with pytest.raises(Unauthorized):
                sign_in(db, "agent-1", "wrong-password")
        with pytest.raises(TooManyRequests, match=r"Too many failed sign-ins\. Wait 15 minutes") as refused:
            sign_in(db, "agent-1", PASSWORD)
        assert refused.value.details["retry_after"] == 900
    assert failed_attempts(db) == 5  # refused attempts are not recorded as failures


def test_failures_from_one_address_do_not_lock_the_account_out_elsewhere(factory: Factory, db: Database) -> None:
    user = factory.user("agent-1", Role.AGENT_T1)
    with clock.frozen_at(NOW):
        for _ in range(5):
            with pytest.raises(Unauthorized):
                sign_in(db, "agent-1", "wrong-password", address="203.0.113.7")
        with pytest.raises(TooManyRequests):
            sign_in(db, "agent-1", PASSWORD, address="203.0.113.7")
        assert sign_in(db, "AGENT-1", PASSWORD, address="10.9.9.9").user_id == user.id  # the owner, elsewhere


def test_four_failures_do_not_block(factory: Factory, db: Database) -> None:
    factory.user("agent-1", Role.AGENT_T1)
    with clock.frozen_at(NOW):
        for _ in range(4):
            with pytest.raises(Unauthorized):
                sign_in(db, "agent-1", "wrong-password")
        with pytest.raises(Unauthorized):  # still checked, not throttled
            sign_in(db, "agent-1", "wrong-password")


def test_failures_older_than_the_window_no_longer_count(factory: Factory, db: Database) -> None:
    factory.user("agent-1", Role.AGENT_T1)
    with clock.frozen_at(NOW):
        for _ in range(5):
            with pytest.raises(Unauthorized):
                sign_in(db, "agent-1", "wrong-password")
        clock.advance(timedelta(seconds=899))
        with pytest.raises(TooManyRequests):
            sign_in(db, "agent-1", "wrong-password")
        clock.advance(timedelta(seconds=2))
        with pytest.raises(Unauthorized):  # checked again
            sign_in(db, "agent-1", "wrong-password")


def test_one_address_guessing_many_names_is_throttled(factory: Factory, db: Database) -> None:
    factory.user("agent-1", Role.AGENT_T1)
    with clock.frozen_at(NOW):
        for i in range(20):  # 4 x the per-name limit, spread so no single name is blocked
            with pytest.raises(Unauthorized):
                sign_in(db, f"guess-{i % 5}", "wrong-password", address="203.0.113.7")
        with pytest.raises(TooManyRequests):
            sign_in(db, "agent-1", PASSWORD, address="203.0.113.7")
        with pytest.raises(Unauthorized):  # another address is not affected
            sign_in(db, "guess-0", "wrong-password", address="198.51.100.1")


# --- API tokens ---------------------------------------------------------------------------------
def test_a_token_identifies_its_user(factory: Factory, db: Database) -> None:
    user = factory.user("feed", Role.INTEGRATION)
    issued = identity.create_token(db, "feed", name="shop feed")
    assert issued.user == "feed"
    assert issued.token.startswith("as_")
    assert issued.prefix == issued.token[3:11]
    principal = identity.principal_for_token(db, issued.token)
    assert principal is not None
    assert (principal.user_id, principal.role) == (user.id, Role.INTEGRATION)


def test_only_the_sha256_digest_of_a_token_is_stored(factory: Factory, db: Database) -> None:
    factory.user("feed", Role.INTEGRATION)
    issued = identity.create_token(db, "feed")
    with db.read() as uow:
        rows = [dict(row) for row in uow.session.execute(text("SELECT * FROM api_tokens")).mappings()]
    assert len(rows) == 1
    assert rows[0]["digest"] == hashlib.sha256(issued.token.encode()).hexdigest()
    secret_part = issued.token[3:]
    for column, value in rows[0].items():
        assert issued.token not in str(value), column
        assert secret_part not in str(value), column


def test_a_revoked_token_no_longer_identifies_anyone(factory: Factory, db: Database) -> None:
    factory.user("feed", Role.INTEGRATION)
    issued = identity.create_token(db, "feed")
    other = identity.create_token(db, "feed")
    identity.revoke_token(db, issued.prefix)
    assert identity.principal_for_token(db, issued.token) is None
    assert identity.principal_for_token(db, other.token) is not None
    identity.revoke_token(db, issued.prefix)  # revoking twice is harmless
    assert identity.principal_for_token(db, issued.token) is None


def test_unknown_tokens_and_prefixes(factory: Factory, db: Database) -> None:
    factory.user("feed", Role.INTEGRATION)
    issued = identity.create_token(db, "feed")
    assert identity.principal_for_token(db, "as_not-a-token") is None
    assert identity.principal_for_token(db, issued.token + "x") is None
    with pytest.raises(NotFound, match="No token starting with 'zzzzzzzz'"):
        identity.revoke_token(db, "zzzzzzzz")
    with pytest.raises(NotFound, match="No user named 'ghost'"):
        identity.create_token(db, "ghost")


def test_a_deactivated_users_token_stops_working(factory: Factory, db: Database) -> None:
    user = factory.user("feed", Role.INTEGRATION)
    issued = identity.create_token(db, "feed")
    identity.set_active(db, user.id, False, ADMIN)
    assert identity.principal_for_token(db, issued.token) is None
    assert identity.principal_for_user_id(db, user.id) is None
    identity.set_active(db, user.id, True, ADMIN)
    assert identity.principal_for_token(db, issued.token) is not None


def test_production_hashing_parameters_are_argon2id_with_64_mib(db: Database, real_hashing: None) -> None:
    identity.create_user(db, username="agent-1", password=PASSWORD, role=Role.AGENT_T1)
    with db.read() as uow:
        stored = uow.session.scalar(select(User.password_hash))
    assert stored is not None and stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    with pytest.raises(Unauthorized):
        sign_in(db, "agent-1", "wrong-password")
