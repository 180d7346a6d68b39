"""The intent model: clear messages land on their intent, out-of-scope messages never trigger an
action, the result is deterministic, the fast scorer equals scikit-learn's, and the cache works."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from aftersales.assistant import service
from aftersales.understanding import model as nlu
from aftersales.understanding.intents import ACTION_INTENTS, INTENTS, OUT_OF_SCOPE_THRESHOLD, Intent, decide

TODAY = date(2026, 11, 22)

# Clear messages per intent, written for this test (none of them is in the training data).
CLEAR: dict[str, list[str]] = {
    "track_order": ["我买的东西现在到哪里了", "where is my parcel right now?"],
    "urge_delivery": ["拍下五天了还没发货，快点发", "please hurry and ship my order, I need it"],
    "delivery_options": ["你们家发什么快递，包邮吗", "do you deliver to hong kong and how much is shipping"],
    "cancel_order": ["麻烦帮我把这个订单取消掉", "I want to cancel the order I just placed"],
    "change_order": ["还没发货的话帮我把颜色改成白色", "can I change the size on my order before it ships"],
    "change_address": ["收货地址填错了，帮我改一下", "please update the delivery address on my order"],
    "return_goods": ["衣服不合适，我要退货", "I want to return these shoes, how do I send them back"],
    "refund": ["东西没收到，我要退款", "I want a full refund for this order"],
    "refund_status": ["我的退款什么时候到账", "I still haven't received my refund"],
    "exchange": ["鞋子小了，想换大一码", "can I exchange this shirt for a bigger size"],
    "repair": ["空调坏了不制冷，要上门维修", "my washing machine stopped working, I need a repair"],
    "price_protection": ["刚买就降价了，能补差价吗", "the price dropped after I bought it, refund the difference"],
    "invoice": ["帮我开一张电子发票", "I need an invoice for my company"],
    "payment": ["付款的时候一直支付失败", "I was charged twice for the same order"],
    "complaint": ["你们服务太差了，我要投诉", "your support is a disgrace, I want to complain"],
    "human_agent": ["我要转人工客服", "let me talk to a real person please"],
    "policy_question": ["你们的退货政策是什么", "how many days do I have to return an item"],
    "feedback": ["建议你们把包装做得结实一点", "just wanted to say your service is great"],
    "account": ["忘记登录密码了怎么找回", "I can't log into my account"],
    "pre_sales": ["这件衣服还有L码吗", "is this jacket in stock in black"],
    "greeting": ["您好呀，早上好", "hi, good morning"],
    "thanks": ["好的，非常感谢", "thanks a lot for your help"],
    "goodbye": ["没有其他问题了，再见", "ok that's all, bye"],
    "out_of_scope": ["明天北京会下雨吗", "write me a python function to sort a list"],
}
OUT_OF_SCOPE = [
    "今天天气怎么样",
    "讲个笑话听听",
    "帮我写一段java代码",
    "1+1等于几",
    "推荐一部好看的电影",
    "你有女朋友吗",
    "what is the capital of japan",
    "tell me a funny story",
    "how do I install docker on ubuntu",
    "who won the football match last night",
    "asdkjh qwpoei",
    "我想学做蛋糕",
]


@pytest.fixture(scope="session")
def model() -> nlu.IntentModel:
    return service.load_model()  # trains once (seconds) or reads the disk cache


def test_the_intent_ids_are_the_contract() -> None:
    assert len(INTENTS) == 24 and INTENTS[0] == "track_order" and INTENTS[-1] == "out_of_scope"


def test_every_intent_has_enough_training_data() -> None:
    counts: dict[str, int] = {}
    for _, intent in nlu.read_examples(nlu.TRAIN_FILE):
        counts[intent] = counts.get(intent, 0) + 1
    assert set(counts) == set(INTENTS)
    assert min(counts.values()) >= 80, counts


def test_the_clear_messages_are_not_training_data() -> None:
    with nlu.TRAIN_FILE.open(encoding="utf-8") as handle:
        training = {row["text"].lower() for row in csv.DictReader(handle)}
    assert not [m for messages in CLEAR.values() for m in messages if m.lower() in training]


@pytest.mark.parametrize(("intent", "text"), [(i, t) for i, texts in CLEAR.items() for t in texts])
def test_clear_messages(model: nlu.IntentModel, intent: str, text: str) -> None:
    understood = service.understand(text, TODAY)
    assert understood.intent == intent, understood.ranking
    assert 0.0 <= understood.confidence <= 1.0


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_never_triggers_an_action(model: nlu.IntentModel, text: str) -> None:
    understood = service.understand(text, TODAY)
    assert not (understood.intent in ACTION_INTENTS and understood.confidence >= OUT_OF_SCOPE_THRESHOLD), (
        understood.intent,
        understood.ranking,
    )


def test_mixed_pinyin_and_abbreviations(model: nlu.IntentModel) -> None:
    assert service.understand("wo yao tuihuo", TODAY).intent == "return_goods"
    assert service.understand("我的order还没到", TODAY).intent == "track_order"
    assert service.understand("tk咋还没到账", TODAY).intent == "refund_status"
    assert service.understand("我的訂單還沒到，幫我查物流", TODAY).intent == "track_order"  # traditional
    assert service.understand("你好，我要退货", TODAY).intent == "return_goods"  # a greeting wrapped around it


def test_understanding_carries_entities(model: nlu.IntentModel) -> None:
    understood = service.understand("SO2611220000123 退款199元昨天申请的还没到", TODAY)
    assert understood.intent == "refund_status"
    assert understood.entities == {
        "order_number": "SO2611220000123",
        "amount": "199",
        "currency": "CNY",
        "date": "2026-11-21",
    }
    assert understood.ranking[0][0] == "refund_status" and len(understood.ranking) == 3


def test_deterministic(model: nlu.IntentModel) -> None:
    texts = ["退款咋还没到", "wtf where is my pkg", "我要投诉"]
    first = [u.as_json() for u in service.classify_many(texts, TODAY)]
    again = [service.understand(t, TODAY).as_json() for t in texts]
    assert first == again


def test_fast_scorer_equals_scikit_learn(model: nlu.IntentModel) -> None:
    texts = [*[text for text, _ in nlu.read_examples(nlu.HELDOUT_FILE)][::7], "", "？？", "x" * 5000]
    fast = np.array([[p[c] for c in model.classes] for p in model.probabilities(texts)])
    reference = model.probabilities_batch(texts)
    assert np.abs(fast - reference).max() < 1e-5
    assert np.allclose(fast.sum(axis=1), 1.0)


def test_low_confidence_is_out_of_scope() -> None:
    assert decide({"refund": 0.25, "return_goods": 0.2, "out_of_scope": 0.1}, 0.3) == ("out_of_scope", 0.75)
    assert decide({"refund": 0.8, "out_of_scope": 0.1}, 0.3) == ("refund", 0.8)
    assert decide({"out_of_scope": 0.2, "refund": 0.1}, 0.3)[0] == Intent.OUT_OF_SCOPE
    assert decide({}, 0.3) == ("out_of_scope", 1.0)


def test_blank_and_odd_input(model: nlu.IntentModel) -> None:
    for text in ["", "   ", "🙂🙂🙂", "？", "a" * 20000]:
        understood = service.understand(text, TODAY)
        assert understood.intent in INTENTS and 0.0 <= understood.confidence <= 1.0


def test_small_model_trains_and_round_trips_through_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = nlu.read_examples(nlu.TRAIN_FILE)
    small = [row for i, row in enumerate(rows) if i % 10 == 0]
    monkeypatch.setenv("AFTERSALES_CACHE_DIR", str(tmp_path))
    trained = nlu.train(small)
    path = tmp_path / "m.joblib"
    nlu._write_cache(path, trained)
    for stale in range(5):
        (tmp_path / f"assistant-intents-{stale}.joblib").write_bytes(b"old")
    nlu._write_cache(tmp_path / "assistant-intents-new.joblib", trained)
    assert len(list(tmp_path.glob("assistant-intents-*.joblib"))) == nlu.KEEP_CACHED
    assert (tmp_path / "assistant-intents-new.joblib").exists()
    loaded = nlu._read_cache(path)
    assert loaded is not None and loaded.classes == trained.classes
    assert loaded.probabilities(["我要退货"]) == trained.probabilities(["我要退货"])
    path.write_bytes(b"not a model")
    assert nlu._read_cache(path) is None  # a broken cache file means retrain, not a crash
    assert nlu.cache_dir() == tmp_path


def test_the_fingerprint_follows_the_data(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("text,intent\n你好,greeting\n", encoding="utf-8")
    before = nlu.fingerprint([data])
    data.write_text("text,intent\n你好呀,greeting\n", encoding="utf-8")
    assert nlu.fingerprint([data]) != before
    assert nlu.fingerprint() == nlu.fingerprint()


def test_bad_data_files_say_what_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("message,label\nhi,greeting\n", encoding="utf-8")
    with pytest.raises(nlu.DataError, match="text and intent"):
        nlu.read_examples(bad)
    bad.write_text("text,intent\nhi,say_hello\n", encoding="utf-8")
    with pytest.raises(nlu.DataError, match="say_hello"):
        nlu.read_examples(bad)
