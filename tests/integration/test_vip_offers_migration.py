"""A database created before the VIP offers were switched off in the shipped policies keeps them
on (load_defaults only adds missing policies); the migration h12money_0001 switches them off, as
the shipped file does, on SQLite and PostgreSQL. The extra coupon comes back on with the wallet
that issues it (h16wallet_0001), under its plain name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from aftersales.db.engine import dispose_all
from aftersales.db.migrate import upgrade
from aftersales.db.uow import Database
from aftersales.rules import service as rules
from aftersales.rules.service import DEFAULTS_PATH, read_policy_file

from ..conftest import DB_KIND, PG_URL

VIP = ("vip_waived_return_shipping", "vip_extra_coupon", "vip_appliance_extended_warranty")
STILL_OFF = ("vip_waived_return_shipping", "vip_appliance_extended_warranty")


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, migrated by the test itself."""
    if DB_KIND == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"aftersales_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql") else url
    )


def test_older_databases_switch_the_vip_offers_off(fresh_url: str) -> None:
    upgrade(fresh_url, "h15_0001")
    engine = _engine(fresh_url)
    try:
        with engine.begin() as conn:
            # What load_defaults inserted before: the offers on, under their old names.
            for i, key in enumerate((*VIP, "quality_30")):
                conn.execute(
                    text(
                        "INSERT INTO policies (key, purpose, name_zh, name_en, priority, enabled, definition, "
                        "version, updated_at, updated_by) VALUES (:key, 'eligibility', :zh, :en, :p, :on, "
                        "'{\"then\": {\"offers\": []}}', 1, CURRENT_TIMESTAMP, 'system')"
                    ),
                    {"key": key, "zh": f"旧名{i}", "en": f"old name {i}", "p": 90 + i, "on": True},
                )
        upgrade(fresh_url)
        with engine.connect() as conn:
            rows = {
                r.key: r for r in conn.execute(text("SELECT key, name_en, name_zh, enabled, version FROM policies"))
            }
    finally:
        engine.dispose()
    shipped = {spec.key: spec for spec in read_policy_file(DEFAULTS_PATH)}
    for key in STILL_OFF:
        assert not rows[key].enabled, key
        assert not shipped[key].enabled, f"{key}: the migration mirrors the shipped file"
        assert (rows[key].name_zh, rows[key].name_en) == (shipped[key].name_zh, shipped[key].name_en)
        assert rows[key].version == 2, "an editor open on the old version gets a conflict"
    coupon = rows["vip_extra_coupon"]
    assert coupon.enabled and shipped["vip_extra_coupon"].enabled, "the wallet issues it: on, as shipped"
    assert (coupon.name_zh, coupon.name_en) == (
        shipped["vip_extra_coupon"].name_zh,
        shipped["vip_extra_coupon"].name_en,
    )
    assert coupon.version == 3, "switched off by h12money_0001, back on by h16wallet_0001"
    assert rows["quality_30"].enabled and rows["quality_30"].version == 1, "other policies are left alone"


def test_a_new_database_gets_the_offers_off_but_the_coupon_from_the_shipped_file(db: Database) -> None:
    rules.load_defaults(db)
    with db.read() as uow:
        on = uow.session.execute(
            text("SELECT key FROM policies WHERE enabled = :on AND key LIKE 'vip_%'"), {"on": True}
        )
        assert sorted(row.key for row in on) == ["vip_extra_coupon", "vip_offer_coupon"]
