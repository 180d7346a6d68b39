"""`aftersales import orders` against the test database (SQLite and PostgreSQL): each platform's
payload files become orders, importing twice changes nothing, lone refunds attach to their order,
and a file that is not an order changes nothing and is named with its field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftersales.cli import app as cli_app
from aftersales.config import Settings, reset_settings
from aftersales.db.uow import Database
from aftersales.orders import service as orders
from aftersales.orders.domain import MerchantKind
from aftersales.orders.schemas import MerchantIn

from .helpers import ADMIN, timeline_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "integrations"


@pytest.fixture
def runner(settings: Settings, db: Database) -> CliRunner:
    reset_settings()
    orders.upsert_merchant(db, MerchantIn(code="shop1", name="Shop One", kind=MerchantKind.POP))
    return CliRunner()


def run(runner: CliRunner, fmt: str, *names: str, merchant: str = "shop1") -> tuple[int, list[dict[str, str]], str]:
    files = [str(FIXTURES / f"{name}.json") for name in names]
    result = runner.invoke(cli_app, ["import", "orders", "--format", fmt, "--merchant", merchant, *files])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines, result.stderr


def test_a_shopify_order_is_created_then_unchanged_then_updated_with_its_partial_refund(
    runner: CliRunner, db: Database
) -> None:
    code, lines, _ = run(runner, "shopify", "shopify_order_create")
    assert code == 0
    assert lines == [
        {
            "file": str(FIXTURES / "shopify_order_create.json"),
            "order_number": "1001",
            "status": "paid",
            "result": "created",
        }
    ]
    assert run(runner, "shopify", "shopify_order_create")[1][0]["result"] == "unchanged"
    code, lines, _ = run(runner, "shopify", "shopify_order_updated")
    assert (code, lines[0]["result"], lines[0]["status"]) == (0, "updated", "partially_refunded")
    assert run(runner, "shopify", "shopify_order_updated")[1][0]["result"] == "unchanged"

    order = orders.get_order(db, "1001", ADMIN)
    assert (order.currency, order.payable_total, order.tax_total, order.taxes_included) == (
        "USD", Decimal("67.37"), Decimal("4.40"), False,
    )  # fmt: skip
    assert order.refunded_total == Decimal("21.46")
    assert [(r.reference, r.amount, r.lines) for r in order.refunds] == [
        ("shopify:refund:8001", Decimal("21.46"), [{"line_no": 1, "quantity": 1}])
    ]
    assert [(line.sku_code, line.quantity, line.unit_price, line.category_code) for line in order.lines] == [
        ("TEE-BLK-M", 2, Decimal("19.99"), "imported"),
        ("variant-2002", 1, Decimal("19.99"), "imported"),
    ]
    assert [(s.carrier, s.tracking_number) for s in order.shipments] == [("UPS", "1Z999AA10123456784")]
    assert order.external_ref == "shopify:5001234567890"


def test_a_lone_refund_is_attached_to_its_order_once(runner: CliRunner, db: Database) -> None:
    run(runner, "shopify", "shopify_order_updated")
    code, lines, _ = run(runner, "shopify", "shopify_refund_create")
    assert (code, lines[0]["order_number"], lines[0]["result"]) == (0, "1001", "updated")
    assert run(runner, "shopify", "shopify_refund_create")[1][0]["result"] == "unchanged"
    order = orders.get_order(db, "1001", ADMIN)
    assert order.refunded_total == Decimal("31.46")
    assert order.status == "partially_refunded"
    assert [e["action"] for e in timeline_rows(db, "order")].count("order.refund_recorded") == 2


def test_a_lone_refund_without_its_order_changes_nothing_and_names_the_field(runner: CliRunner, db: Database) -> None:
    code, lines, err = run(runner, "shopify", "shopify_refund_create")
    assert (code, lines) == (2, [])
    assert "shopify_refund_create.json" in err and "order_id" in err
    assert orders.count_orders(db) == 0


def test_a_rest_list_yields_one_line_per_order(runner: CliRunner) -> None:
    code, lines, _ = run(runner, "shopify", "shopify_rest_orders")
    assert code == 0
    assert [(line["order_number"], line["status"], line["result"]) for line in lines] == [
        ("1001", "paid", "created"),
        ("1002", "created", "created"),
    ]


def test_a_list_with_one_bad_order_changes_nothing_for_that_file(
    runner: CliRunner, db: Database, tmp_path: Path
) -> None:
    payload = json.loads((FIXTURES / "shopify_rest_orders.json").read_text())
    payload["orders"][1]["total_price"] = "1.00"
    bad = tmp_path / "page.json"
    bad.write_text(json.dumps(payload))
    good = tmp_path / "good.json"
    other = json.loads((FIXTURES / "shopify_order_create.json").read_text())
    good.write_text(json.dumps({**other, "id": 5001234567999, "name": "#2001", "customer": None}))
    result = runner.invoke(
        cli_app, ["import", "orders", "--format", "shopify", "--merchant", "shop1", str(bad), str(good)]
    )
    assert result.exit_code == 2
    assert f"{bad}: orders[1].total_price" in result.stderr
    assert [json.loads(line)["order_number"] for line in result.stdout.splitlines()] == ["2001"]
    assert orders.count_orders(db) == 1  # the other file's order; none of the refused page's


@pytest.mark.parametrize(
    ("fmt", "name", "number", "status"),
    [
        ("woocommerce", "woocommerce_order", "727", "paid"),
        ("magento2", "magento2_order", "000000042", "paid"),
        ("bigcommerce", "bigcommerce_order", "100", "paid"),
        ("saleor", "saleor_order_created", "1042", "paid"),
    ],
)
def test_each_platforms_order_is_imported_once(
    runner: CliRunner, db: Database, fmt: str, name: str, number: str, status: str
) -> None:
    code, lines, err = run(runner, fmt, name)
    assert code == 0, err
    assert [(line["order_number"], line["status"], line["result"]) for line in lines] == [(number, status, "created")]
    assert run(runner, fmt, name)[1][0]["result"] == "unchanged"
    order = orders.get_order(db, number, ADMIN)
    assert order.lines and order.payments


def test_woocommerce_refunds_make_the_order_partially_refunded(runner: CliRunner, db: Database) -> None:
    run(runner, "woocommerce", "woocommerce_order")
    code, lines, _ = run(runner, "woocommerce", "woocommerce_order_refunded_in_part")
    assert (code, lines[0]["status"], lines[0]["result"]) == (0, "partially_refunded", "updated")
    assert orders.get_order(db, "727", ADMIN).refunded_total == Decimal("9.99")


@pytest.mark.parametrize(
    ("fmt", "name", "field"),
    [
        ("shopify", "shopify_fulfillment", "order_id"),
        ("woocommerce", "woocommerce_refund", "amount"),
        ("bigcommerce", "bigcommerce_callback", "data.id"),
        ("shopify", "magento2_order", "body"),
    ],
)
def test_a_payload_that_is_not_an_order_changes_nothing(
    runner: CliRunner, db: Database, fmt: str, name: str, field: str
) -> None:
    code, lines, err = run(runner, fmt, name)
    assert (code, lines) == (2, [])
    assert f"{name}.json: {field}:" in err
    assert orders.count_orders(db) == 0


def test_a_bigcommerce_callback_for_an_imported_order_is_unchanged(runner: CliRunner) -> None:
    run(runner, "bigcommerce", "bigcommerce_order")
    code, lines, _ = run(runner, "bigcommerce", "bigcommerce_callback")
    assert (code, lines[0]["order_number"], lines[0]["result"]) == (0, "100", "unchanged")


def test_an_unreadable_file_and_an_unknown_merchant_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": 1,')
    result = runner.invoke(cli_app, ["import", "orders", "--format", "shopify", "--merchant", "shop1", str(broken)])
    assert result.exit_code == 2 and f"{broken}: body: not JSON" in result.stderr
    missing = runner.invoke(
        cli_app, ["import", "orders", "--format", "shopify", "--merchant", "shop1", str(tmp_path / "nope.json")]
    )
    assert missing.exit_code == 2 and "nope.json" in missing.stderr
    assert run(runner, "shopify", "shopify_order_create", merchant="nobody")[0] == 2


def test_an_existing_customer_is_attached_without_changing_who_they_are(
    runner: CliRunner, db: Database, tmp_path: Path
) -> None:
    run(runner, "shopify", "shopify_order_create")
    payload = json.loads((FIXTURES / "shopify_rest_orders.json").read_text())
    # The same customer on another order, with another name and phone.
    other = payload["orders"][1]
    other["customer"] = {**other["customer"], "first_name": "Someone", "last_name": "Else", "phone": "+1 555 0199"}
    path = tmp_path / "other.json"
    path.write_text(json.dumps(other))
    result = runner.invoke(cli_app, ["import", "orders", "--format", "shopify", "--merchant", "shop1", str(path)])
    assert result.exit_code == 0, result.stderr
    second = orders.get_order(db, "1002", ADMIN)
    assert second.customer_name == "Ann Lee"
    assert second.customer_phone == "+1-555-0100"
