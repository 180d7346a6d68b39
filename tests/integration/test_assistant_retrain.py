"""`aftersales assistant retrain` on the real database (SQLite and PostgreSQL) and the real data:
approved examples that teach the bot what it missed are accepted and become the live model;
mislabelled ones make frozen-set numbers drop and are refused, and the live model stays. An
approved example that repeats a frozen test line is left out either way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from aftersales.assistant import learning
from aftersales.assistant.cli import assistant_app
from aftersales.assistant.models import ChatMessage, Conversation, LearningConsent, LearningExample
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.understanding import model as nlu
from aftersales.understanding import retraining
from aftersales.understanding import service as understanding
from aftersales.understanding.intents import INTENTS

from ..factories import Factory

IMPROVING = Path(__file__).parents[1] / "data" / "learning_improving.csv"
AGENT = Principal(user_id=0, username="ann", role=Role.AGENT_T1, display_name="Ann")
SUPERVISOR = Principal(user_id=0, username="sue", role=Role.SUPERVISOR, display_name="Sue")
HEADLINES = ["accuracy", "in_scope_accuracy", "oos_precision", "oos_recall"]


@pytest.fixture
def live_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the live model goes: empty, so the base model is live until a retrain promotes one."""
    monkeypatch.setenv("AFTERSALES_MODEL_DIR", str(tmp_path / "models"))
    nlu.forget_model()
    yield tmp_path / "models"
    nlu.forget_model()


def _approve(db: Database, factory: Factory, rows: list[tuple[str, str]], *, review: bool = True) -> None:
    """Each row as a consented conversation whose request the bot read, labelled by an agent and
    approved by a supervisor, through the same use cases as the pages."""
    factory.catalogue()
    predicted = understanding.classify_many([text for text, _ in rows], clock.now().date())
    for (text, intent), u in zip(rows, predicted, strict=True):
        now = clock.now()
        with db.write() as uow:
            conversation = Conversation(
                channel="web", language="zh-CN", status="waiting_human", state={}, created_at=now, updated_at=now
            )
            uow.session.add(conversation)
            uow.session.flush()
            uow.session.add(
                ChatMessage(
                    conversation_id=conversation.id,
                    sender="customer",
                    text=text,
                    intent=u.intent,
                    confidence=u.confidence,
                    entities={},
                    created_at=now,
                )
            )
            uow.session.add(LearningConsent(conversation_id=conversation.id, consented=True, decided_at=now))
            uow.commit()
            cid = conversation.id
        example = learning.correct_intent(db, AGENT, cid, intent)
        if review:
            learning.review(db, SUPERVISOR, example.id, True)


def _retrain() -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(assistant_app, ["retrain", "--today", "2026-12-07"])
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_retrain_promotes_examples_that_teach_what_the_bot_missed(
    db: Database, factory: Factory, live_dir: Path
) -> None:
    rows = nlu.read_examples(IMPROVING)
    assert retraining.frozen_clashes([text for text, _ in rows]) == []
    _approve(db, factory, rows)
    # One more, approved before its words became a frozen test line: left out, and said so.
    frozen_text, frozen_intent = retraining.frozen_rows()[3]
    _approve(db, factory, [(frozen_text, frozen_intent)], review=False)  # the page would refuse it
    with db.write() as uow:
        uow.session.execute(update(LearningExample).values(status="approved"))
        uow.commit()

    code, report, err = _retrain()
    assert code == 0, err
    before, after = report["before"], report["after"]
    assert isinstance(before, dict) and isinstance(after, dict)
    assert list(before) == HEADLINES and list(after) == HEADLINES
    assert all(after[name] >= before[name] for name in HEADLINES) and after != before
    assert report["examples"] == len(rows) and report["dropped"] == [] and report["replaced"] is True
    assert report["refused_examples"] == [
        {"text": frozen_text, "intent": frozen_intent, "frozen_line": frozen_text, "similarity": 1.0}
    ]
    assert "replaced the live model" in err

    # The live model is the new one: the pointer names it, and this process now serves it.
    pointer = json.loads((live_dir / nlu.LIVE_POINTER).read_text(encoding="utf-8"))
    assert (live_dir / pointer["file"]).is_file() and pointer["examples"] == len(rows)
    assert pointer["base"] == nlu.fingerprint() and str(live_dir / pointer["file"]) == report["live_model"]
    served = nlu.load_model()
    assert "+" in served.fingerprint
    again = understanding.evaluate(retraining.frozen_rows(), clock.now().date())
    assert round(again.accuracy, 4) == after["accuracy"]


def test_retrain_refuses_mislabelled_examples_and_keeps_the_live_model(
    db: Database, factory: Factory, live_dir: Path
) -> None:
    # Real held-out messages labelled with the next intent in the list: the mistakes a careless
    # reviewer lets through.
    heldout = nlu.read_examples(nlu.HELDOUT_FILE)
    kept = {text for text, _ in heldout} - {text for text, _, _ in retraining.frozen_clashes([t for t, _ in heldout])}
    wrong = [(text, INTENTS[(INTENTS.index(intent) + 1) % len(INTENTS)]) for text, intent in heldout if text in kept]
    _approve(db, factory, wrong[:120])

    code, report, err = _retrain()
    assert code == 1
    assert report["dropped"] and set(report["dropped"]) <= set(HEADLINES)  # type: ignore[arg-type]
    assert report["replaced"] is False and report["live_model"] == ""
    before, after = report["before"], report["after"]
    assert isinstance(before, dict) and isinstance(after, dict)
    assert any(after[name] < before[name] for name in HEADLINES)
    assert "refused" in err and "the live model stays" in err
    assert not (live_dir / nlu.LIVE_POINTER).exists()
    assert "+" not in nlu.load_model().fingerprint
