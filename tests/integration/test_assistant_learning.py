"""Learning from hand-offs on the real database (SQLite and PostgreSQL): a hand-off keeps the
customer's request only with the customer's consent, an agent says what the customer wanted, a
supervisor approves, and an approved example that repeats a frozen test line is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from aftersales.assistant import conversation as chat
from aftersales.assistant import handoff, learning
from aftersales.assistant.models import LearningExample
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid
from aftersales.rules import service as rules
from aftersales.tickets import service as tickets
from aftersales.understanding import retraining

from ..factories import Factory
from ..http.test_cases_api import put_order

AGENT = Principal(user_id=0, username="ann", role=Role.AGENT_T1, display_name="Ann")
SUPERVISOR = Principal(user_id=0, username="sue", role=Role.SUPERVISOR, display_name="Sue")


@pytest.fixture(autouse=True)
def desk() -> None:
    handoff.bind(tickets)  # as main.create_app binds it


@pytest.fixture
def customer(factory: Factory, db: Database) -> Principal:
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-A", quantity=1)
    user = factory.customer_user("lina", "C1")
    found = identity.principal_for_user_id(db, user.id)
    assert found is not None
    return found


def _hand_off(db: Database, who: Principal, request: str, *, consent: bool | None) -> int:
    """A conversation whose request the bot did not serve, then "转人工"; returns its id."""
    conversation = chat.start_or_resume(db, who, "zh-CN")
    if consent is not None:
        learning.set_consent(db, who, conversation.id, consent)
    chat.post_customer_message(db, who, conversation.id, request)
    chat.post_customer_message(db, who, conversation.id, "转人工")
    assert chat.transcript(db, who, conversation.id).status == "waiting_human"
    return conversation.id


def _examples(db: Database) -> list[LearningExample]:
    with db.read() as uow:
        return list(uow.session.scalars(select(LearningExample).order_by(LearningExample.id)))


def test_a_hand_off_is_kept_only_with_the_customers_consent(db: Database, customer: Principal) -> None:
    cid = _hand_off(db, customer, "我那个东西怎么弄啊", consent=None)  # not answered: counts as no
    assert _examples(db) == [] and learning.consent_of(db, cid) is None


def test_a_consented_hand_off_keeps_the_request_unlabelled(db: Database, customer: Principal) -> None:
    cid = _hand_off(db, customer, "我那个东西怎么弄啊", consent=True)
    [example] = _examples(db)
    assert (example.conversation_id, example.text, example.source, example.status) == (
        cid,
        "我那个东西怎么弄啊",
        "handoff",
        "unlabelled",
    )
    assert example.predicted_intent and example.corrected_intent == "" and example.consent_at is not None
    # The same words handed over again keep one example.
    with db.write() as uow:
        assert learning.record_handoff(uow.session, cid) == example.id
        uow.commit()
    assert len(_examples(db)) == 1


def test_a_customer_who_says_no_is_not_kept(db: Database, customer: Principal) -> None:
    cid = _hand_off(db, customer, "我那个东西怎么弄啊", consent=False)
    assert _examples(db) == [] and learning.consent_of(db, cid) is False


def test_withdrawing_consent_deletes_what_was_kept(db: Database, customer: Principal) -> None:
    cid = _hand_off(db, customer, "这玩意儿到底咋整", consent=True)
    assert len(_examples(db)) == 1
    assert learning.consent_of(db, cid) is True
    learning.set_consent(db, customer, cid, False)
    assert _examples(db) == [] and learning.consent_of(db, cid) is False
    with pytest.raises(Conflict):  # and an agent cannot keep it afterwards
        learning.correct_intent(db, AGENT, cid, "return_goods")


def test_an_agent_labels_a_supervisor_approves(db: Database, customer: Principal) -> None:
    cid = _hand_off(db, customer, "我那个东西怎么弄啊", consent=True)
    with pytest.raises(Conflict):  # nothing to approve before an agent said what it was
        learning.review(db, SUPERVISOR, _examples(db)[0].id, True)
    with pytest.raises(Invalid):
        learning.correct_intent(db, AGENT, cid, "make_coffee")
    with pytest.raises(Forbidden):
        learning.correct_intent(db, customer, cid, "repair")
    labelled = learning.correct_intent(db, AGENT, cid, "repair")
    assert (labelled.source, labelled.status, labelled.corrected_intent, labelled.labelled_by) == (
        "handoff",
        "pending",
        "repair",
        "Ann",
    )
    assert [e.id for e in learning.examples(db, SUPERVISOR)] == [labelled.id]
    with pytest.raises(Forbidden):  # agents label, supervisors approve
        learning.review(db, AGENT, labelled.id, True)
    approved = learning.review(db, SUPERVISOR, labelled.id, True)
    assert (approved.status, approved.reviewed_by) == ("approved", "Sue")
    assert learning.approved(db) == [("我那个东西怎么弄啊", "repair")]
    assert learning.counts(db, SUPERVISOR) == {"unlabelled": 0, "pending": 0, "approved": 1, "rejected": 0}
    # A new label is reviewed again.
    assert learning.correct_intent(db, AGENT, cid, "return_goods").status == "pending"
    assert learning.approved(db) == []
    assert learning.review(db, SUPERVISOR, labelled.id, False).status == "rejected"


def test_a_correction_without_a_hand_off_example_is_an_agents_correction(db: Database, customer: Principal) -> None:
    cid = _hand_off(db, customer, "我那个东西怎么弄啊", consent=None)  # handed off before the customer agreed
    learning.set_consent(db, customer, cid, True)
    corrected = learning.correct_intent(db, AGENT, cid, "pre_sales")
    assert (corrected.source, corrected.text, corrected.status) == ("agent_correction", "我那个东西怎么弄啊", "pending")


def test_an_example_that_repeats_a_frozen_test_line_is_refused(db: Database, customer: Principal) -> None:
    frozen_text, frozen_intent = retraining.frozen_rows()[0]
    cid = _hand_off(db, customer, frozen_text, consent=True)
    example = learning.correct_intent(db, AGENT, cid, frozen_intent if frozen_intent != "out_of_scope" else "refund")
    assert example.text == frozen_text
    with pytest.raises(Conflict, match="frozen test set"):
        learning.review(db, SUPERVISOR, example.id, True)
    assert learning.review(db, SUPERVISOR, example.id, False).status == "rejected"
    # Even approved behind the page's back, retraining leaves it out (see test_assistant_retrain).
    with db.write() as uow:
        uow.session.execute(update(LearningExample).values(status="approved"))
        uow.commit()
    assert retraining.frozen_clashes([t for t, _ in learning.approved(db)])
