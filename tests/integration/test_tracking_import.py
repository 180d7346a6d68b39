"""`aftersales import tracking`: carriers' payloads as sent, recorded on the shipments of orders sent
through the orders service; replays and overlapping pushes add nothing; a payload that cannot be
applied changes nothing and says which file and field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from aftersales.db.uow import Database
from aftersales.integrations.tracking_cli import import_files
from aftersales.integrations.tracking_import import ImportRefused, import_payload
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.models import LogisticsEvent
from aftersales.timeline.models import TimelineEvent

from ..factories import Factory
from .helpers import ADMIN

DATA = Path(__file__).resolve().parents[1] / "data" / "carriers"
SRC = str(Path(__file__).resolve().parents[2] / "src")

# Order number → (carrier as the shop sends it, tracking number) for each fixture's parcel.
PARCELS = {
    "SO-EP-1": ("USPS", "9400100000000000000001"),
    "SO-AS-1": ("YUN", "YT2611020000001"),
    "SO-AS-2": ("YUN", "YT2611020000002"),
    "SO-17-1": ("EMS", "RB261102001CN"),
    "SO-SH-1": ("USPS", "9205590164917312751089"),
    "SO-CN-1": ("CAINIAO", "LP00561234567890"),
}


@pytest.fixture
def shop(factory: Factory) -> Factory:
    factory.catalogue()
    for number, (carrier, tracking) in PARCELS.items():
        factory.put_order(number=number, shipments=[{"carrier": carrier, "tracking_number": tracking}])
    return factory


def run(db: Database, fmt: str, *names: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[Any], str]:
    status = import_files(db, fmt, [DATA / n if not os.path.isabs(n) else Path(n) for n in names])
    out, err = capsys.readouterr()
    # Only the command's JSON lines: log lines may share stdout when an earlier test set logging up so.
    return status, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


def event_count(db: Database) -> int:
    with db.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(LogisticsEvent)) or 0)


def timeline_count(db: Database) -> int:
    with db.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(TimelineEvent)) or 0)


def parcel(db: Database, order_number: str) -> Any:
    [shipment] = orders.get_order(db, order_number, ADMIN).shipments
    return shipment


def test_each_format_lands_on_its_shipment(shop: Factory, db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ("easypost", "easypost_event_2.json", "SO-EP-1", "delivered", 6, "delivered"),
        ("aftership", "aftership_webhook.json", "SO-AS-1", "returned", 7, "shipped"),
        ("17track", "17track_push.json", "SO-17-1", "exception", 5, "shipped"),
        ("shippo", "shippo_webhook.json", "SO-SH-1", "delivered", 5, "delivered"),
        ("cainiao", "cainiao_trace.json", "SO-CN-1", "delivered", 8, "delivered"),
    ]
    for fmt, name, order_number, status, scans, order_status in cases:
        code, lines, err = run(db, fmt, name, capsys=capsys)
        assert (code, err) == (0, ""), name
        assert lines == [
            {
                "file": str(DATA / name),
                "tracking_number": PARCELS[order_number][1],
                "status": status,
                "new_events": scans,
            }
        ]
        order = orders.get_order(db, order_number, ADMIN)
        assert order.status == order_status, name
        assert len(order.shipments[0].events) == scans
    refused = [e for e in parcel(db, "SO-AS-1").events if e.node == "exception"]
    assert [(e.exception_reason, e.carrier_code) for e in refused] == [("refused", "Exception_003")]
    damaged = parcel(db, "SO-17-1")
    assert (damaged.current_node, damaged.events[-1].exception_reason) == ("exception", "damaged")
    cainiao = parcel(db, "SO-CN-1")
    assert [e.carrier_code for e in cainiao.events][:2] == ["GWMS_ACCEPT", "PU_PICKUP_SUCCESS"]
    # The label data is not the parcel: shipped when the carrier picked it up (09:30 Beijing).
    assert cainiao.shipped_at.isoformat() == "2026-11-03T01:30:00+00:00"


def test_the_same_file_twice_adds_nothing(shop: Factory, db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    run(db, "aftership", "aftership_webhook.json", capsys=capsys)
    events, entries = event_count(db), timeline_count(db)
    code, lines, _ = run(db, "aftership", "aftership_webhook.json", "aftership_webhook.json", capsys=capsys)
    assert code == 0 and [line["new_events"] for line in lines] == [0, 0]
    assert lines[0]["status"] == "returned"
    assert (event_count(db), timeline_count(db)) == (events, entries)


def test_overlapping_pushes_with_other_event_ids_add_only_the_new_scans(
    shop: Factory, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first, _ = run(db, "easypost", "easypost_event_1.json", capsys=capsys)
    assert [(line["status"], line["new_events"]) for line in first] == [("in_transit", 3)]
    assert orders.get_order(db, "SO-EP-1", ADMIN).status == "shipped"
    _, second, _ = run(db, "easypost", "easypost_event_2.json", "easypost_trackers.json", capsys=capsys)
    assert [(line["status"], line["new_events"]) for line in second] == [("delivered", 3), ("delivered", 0)]
    _, again, _ = run(db, "aftership", "aftership_webhook.json", "aftership_webhook_again.json", capsys=capsys)
    assert [line["new_events"] for line in again] == [7, 1]
    # The REST list repeats the webhook's tracking and brings a second one.
    _, listed, _ = run(db, "aftership", "aftership_trackings.json", capsys=capsys)
    assert [(line["tracking_number"], line["new_events"]) for line in listed] == [
        ("YT2611020000001", 0),
        ("YT2611020000002", 2),
    ]
    assert event_count(db) == 6 + 8 + 2


def test_pushes_in_any_order_end_in_the_same_state(
    shop: Factory, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    run(db, "easypost", "easypost_event_2.json", "easypost_event_1.json", capsys=capsys)
    late = parcel(db, "SO-EP-1")
    assert (late.status, late.current_node, len(late.events)) == ("delivered", "delivered", 6)
    assert orders.get_order(db, "SO-EP-1", ADMIN).status == "delivered"


def test_a_tracking_number_no_shipment_has_changes_nothing_in_that_file(
    shop: Factory, db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    listing = json.loads((DATA / "aftership_trackings.json").read_text(encoding="utf-8"))
    listing["data"]["trackings"][1]["tracking_number"] = "YT0000000000404"
    stray = tmp_path / "stray.json"
    stray.write_text(json.dumps(listing), encoding="utf-8")
    code, lines, err = run(db, "aftership", str(stray), "shippo_webhook.json", capsys=capsys)
    assert code == 2
    assert f"{stray}: data.trackings[1].tracking_number: no shipment has tracking number 'YT0000000000404'" in err
    assert "nothing imported from this file" in err
    # The first tracking of the refused file is not imported either; the next file is.
    assert [line["file"] for line in lines] == [str(DATA / "shippo_webhook.json")]
    assert parcel(db, "SO-AS-1").events == []


@pytest.mark.parametrize(
    ("fmt", "content", "words"),
    [
        ("shippo", None, "(payload): not JSON"),
        ("shippo", "shippo_transaction.json", "event: 'transaction_created' is a Shippo webhook"),
        ("cainiao", '{"refundId": "R1", "amount": "9.90"}', "mailNo: missing"),
        ("aftership", '{"msg": {"tracking_number": "YT2611020000001", "checkpoints": [{"tag": "InTransit", '
         '"checkpoint_time": "tomorrow"}]}}', "msg.checkpoints[0].checkpoint_time: 'tomorrow' is not a time"),
        ("easypost", '{"object": "Tracker", "tracking_code": "9400100000000000000001", "tracking_details": '
         '[{"status": "in_transit", "datetime": "2099-01-01T00:00:00Z"}]}', "tracking_details[0]: occurred_at: "),
    ],
)  # fmt: skip
def test_a_file_it_cannot_apply_names_the_file_and_the_field(
    shop: Factory,
    db: Database,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    fmt: str,
    content: str | None,
    words: str,
) -> None:
    if content is None:
        path = tmp_path / "broken.json"
        path.write_bytes(b'{"event": "track_updated", "data": ')
    elif content.endswith(".json"):
        path = DATA / content
    else:
        path = tmp_path / "payload.json"
        path.write_text(content, encoding="utf-8")
    before = (event_count(db), timeline_count(db))
    code, lines, err = run(db, fmt, str(path), capsys=capsys)
    assert (code, lines) == (2, [])
    assert f"error: {path}: {words}" in err
    assert (event_count(db), timeline_count(db)) == before


def test_a_missing_file_is_named(
    shop: Factory, db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(db, "cainiao", str(tmp_path / "nowhere.json"), capsys=capsys)
    assert code == 2 and f"{tmp_path / 'nowhere.json'}: (file): cannot read it" in err


def test_the_command_line_end_to_end(shop: Factory, db: Database, settings: Any) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "AFTERSALES_DATABASE_URL": settings.database_url}
    cli = "from aftersales.cli import app; app()"
    command = [sys.executable, "-c", cli, "import", "tracking", "--format", "17track"]

    def call(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *files], capture_output=True, text=True, timeout=120, env=env, check=False)

    done = call(str(DATA / "17track_push.json"), str(DATA / "17track_gettrackinfo.json"))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"file": str(DATA / "17track_push.json"), "tracking_number": "RB261102001CN", "status": "exception",
         "new_events": 5},
        {"file": str(DATA / "17track_gettrackinfo.json"), "tracking_number": "RB261102001CN", "status": "exception",
         "new_events": 0},
    ]  # fmt: skip
    refused = call(str(DATA / "shippo_webhook.json"))
    assert refused.returncode == 2 and refused.stdout == ""
    assert "shippo_webhook.json: event: 'track_updated' is not a 17TRACK tracking push" in refused.stderr


def test_an_integration_bound_to_a_merchant_imports_only_its_parcels(shop: Factory, db: Database) -> None:
    payload = json.loads((DATA / "shippo_webhook.json").read_text(encoding="utf-8"))
    other = orders.merchant_id_for(db, "pop-a")
    stranger = Principal(user_id=7, username="pop-a-feed", role=Role.INTEGRATION, merchant_id=other)
    with pytest.raises(ImportRefused, match=r"data\.tracking_number: no shipment with tracking number"):
        import_payload(db, "shippo", payload, stranger)
    assert parcel(db, "SO-SH-1").events == []
    selfop = orders.merchant_id_for(db, "selfop")
    own = Principal(user_id=8, username="selfop-feed", role=Role.INTEGRATION, merchant_id=selfop)
    assert [r.new_events for r in import_payload(db, "shippo", payload, own)] == [5]
