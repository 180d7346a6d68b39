"""The evaluation contract of `aftersales assistant classify` and `aftersales assistant eval`:
through Typer's CliRunner and as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftersales.assistant import service
from aftersales.assistant.cli import assistant_app
from aftersales.understanding import model as nlu

MESSAGES = "我的快递到哪了 SO2611220000123\n\n   \nwtf where is my pkg\n退款咋还没到，昨天申请的199元\n"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    service.load_model()  # the model is trained or read once for the whole session
    return CliRunner()


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _check_shape(rows: list[dict[str, object]]) -> None:
    for row in rows:
        assert list(row) == ["text", "intent", "confidence", "entities"]
        assert isinstance(row["text"], str) and isinstance(row["intent"], str)
        assert isinstance(row["confidence"], float) and 0.0 <= row["confidence"] <= 1.0
        assert isinstance(row["entities"], dict)


def test_classify_reads_stdin_and_skips_blank_lines(runner: CliRunner) -> None:
    result = runner.invoke(assistant_app, ["classify", "--today", "2026-11-22"], input=MESSAGES)
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.output)
    _check_shape(rows)
    assert [r["text"] for r in rows] == [
        "我的快递到哪了 SO2611220000123",
        "wtf where is my pkg",
        "退款咋还没到，昨天申请的199元",
    ]
    assert [r["intent"] for r in rows] == ["track_order", "track_order", "refund_status"]
    assert rows[0]["entities"] == {"order_number": "SO2611220000123"}
    assert rows[2]["entities"] == {"amount": "199", "currency": "CNY", "date": "2026-11-21"}
    assert "我的快递" in result.output  # ensure_ascii=False: Chinese as written, not \\u escapes


def test_classify_reads_a_file(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("\ufeff转人工\r\ncancel my order please\r\n", encoding="utf-8")  # BOM and CRLF
    result = runner.invoke(assistant_app, ["classify", "--input", str(source)])
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.output)
    assert [(r["text"], r["intent"]) for r in rows] == [
        ("转人工", "human_agent"),
        ("cancel my order please", "cancel_order"),
    ]


def test_classify_refuses_a_missing_file_and_a_bad_date(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(assistant_app, ["classify", "--input", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad_day = runner.invoke(assistant_app, ["classify", "--today", "22/11/2026"], input="hi\n")
    assert bad_day.exit_code == 2 and "YYYY-MM-DD" in bad_day.output


def test_eval_prints_accuracy_per_intent_and_confusions(runner: CliRunner, tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.csv"
    labelled.write_text(
        "text,intent\n我要退货,return_goods\n退款咋还没到,refund_status\nhello,greeting\n"
        "where is my refund,track_order\n",  # one deliberately wrong label, to see a confusion
        encoding="utf-8",
    )
    result = runner.invoke(assistant_app, ["eval", str(labelled)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "accuracy: 0.7500 (3/4)" in out
    assert "precision" in out and "recall" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert lines["return_goods"] == ["1.000", "1.000", "1.000", "1"]
    assert "track_order -> refund_status: 1" in out


def test_eval_on_the_held_out_split(runner: CliRunner) -> None:
    result = runner.invoke(assistant_app, ["eval", str(nlu.HELDOUT_FILE), "--confusions", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("accuracy: ")
    assert all(intent in result.output for intent in ("track_order", "out_of_scope", "price_protection"))


def test_eval_explains_a_bad_file(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("message,label\nhi,greeting\n", encoding="utf-8")
    result = runner.invoke(assistant_app, ["eval", str(bad)])
    assert result.exit_code == 2
    assert "text and intent" in result.output


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["AFTERSALES_CACHE_DIR"] = str(nlu.cache_dir().resolve())  # reuse the session's trained model
    env["PYTHONIOENCODING"] = "ascii"  # the command must still write UTF-8
    return env


def test_classify_as_a_real_process(runner: CliRunner) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aftersales.assistant.cli", "classify", "--today", "2026-11-22"],
        input=MESSAGES.encode("utf-8"),
        capture_output=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    rows = _json_lines(done.stdout.decode("utf-8"))
    _check_shape(rows)
    assert [r["intent"] for r in rows] == ["track_order", "track_order", "refund_status"]


def test_aftersales_assistant_classify_as_a_real_process(runner: CliRunner) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aftersales.cli", "assistant", "classify", "--today", "2026-11-22"],
        input=MESSAGES.encode("utf-8"),
        capture_output=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    rows = _json_lines(done.stdout.decode("utf-8"))
    _check_shape(rows)
    assert [r["intent"] for r in rows] == ["track_order", "track_order", "refund_status"]


def test_eval_json_reports_in_scope_accuracy_out_of_scope_and_the_curve(runner: CliRunner, tmp_path: Path) -> None:
    labelled = tmp_path / "public.csv"
    labelled.write_text(
        "# a comment line before the header\ntext,intent\n我要退货,return_goods\n退款咋还没到,refund_status\n"
        "讲个笑话听听,oos\nwhat is the capital of japan,oos\n",
        encoding="utf-8",
    )
    result = runner.invoke(assistant_app, ["eval", str(labelled), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["total"] == 4 and report["in_scope_total"] == 2
    assert report["accuracy"] == 1.0 and report["in_scope_accuracy"] == 1.0
    assert report["oos_precision"] == 1.0 and report["oos_recall"] == 1.0
    assert report["per_intent"]["out_of_scope"]["support"] == 2  # "oos" is out_of_scope
    assert report["per_intent"]["return_goods"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 1,
        "predicted": 1,
    }
    assert report["threshold"] in [point["threshold"] for point in report["oos_curve"]]
    assert sum(b["count"] for b in report["reliability"]) == 4 and 0.0 <= report["calibration_error"] <= 1.0
    assert "warning" not in result.output


def test_eval_text_names_in_scope_accuracy_and_out_of_scope(runner: CliRunner, tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("text,intent\n我要退货,return_goods\n讲个笑话听听,oos\n", encoding="utf-8")
    result = runner.invoke(assistant_app, ["eval", str(labelled)])
    assert result.exit_code == 0, result.output
    assert "in-scope accuracy: 1.0000 (1/1)" in result.output
    assert "out-of-scope precision: 1.0000" in result.output and "out-of-scope recall: 1.0000" in result.output
    assert "<- operating point" in result.output
