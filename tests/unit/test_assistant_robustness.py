"""Messages as shoppers type them: elongations, emoji, full-width letters, misspellings, bare
numbers and other services' business. None of these messages is in the training text, the
held-out split or the frozen test set."""

from __future__ import annotations

from datetime import date

import pytest

from aftersales.assistant import service
from aftersales.understanding import augment
from aftersales.understanding import model as nlu
from aftersales.understanding.intents import ACTION_INTENTS
from aftersales.understanding.normalising import squeeze
from aftersales.understanding.spelling import Speller
from aftersales.understanding.tokenising import clean, tokens, views

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def model() -> nlu.IntentModel:
    return service.load_model()


@pytest.mark.parametrize(
    ("raw", "squeezed"),
    [
        ("whereeee is my parcellll", "where is my parcel"),
        ("退款啊啊啊啊啊", "退款啊啊"),
        ("？？？？", "？？"),
        ("😡😡 退款", " emoangry  退款"),
        ("🍔🍟", " emojix "),
        ("👍 🙏", " emogood   emoplease "),
        ("too good", "too good"),  # a double letter is a spelling, not an elongation
    ],
)
def test_squeeze_cuts_elongations_and_names_emoji(raw: str, squeezed: str) -> None:
    assert squeeze(raw) == squeezed


def test_the_speller_corrects_to_known_words_only() -> None:
    speller = Speller({"return": 40, "invoice": 30, "order": 50, "reset": 3, "cancel": 20})
    assert speller.correct("retrun") == "return"  # a swap is one edit
    assert speller.correct("invioce") == "invoice"
    assert speller.correct("oredr") == "order"
    assert speller.correct("cancl") == "cancel"
    assert speller.correct("present") == "present"  # not "reset": the first letter differs
    assert speller.correct("netflix") == "netflix"  # nothing near: left alone
    assert speller.correct("ordr") == "order" and speller.correct("ord") == "ord"  # too short to guess
    assert speller.correct("ordernox") == "ordernox"  # placeholders are not words


def test_clean_uses_the_models_speller(model: nlu.IntentModel) -> None:
    assert model.speller is not None
    assert clean("i need an invioce", model.speller) == "i need an invoice"
    assert clean("ＣＡＮＣＥＬ ｍｙ oredr!!!!", model.speller) == "cancel my order!!"


def test_augmentation_makes_keyword_forms_and_out_of_scope_negatives() -> None:
    examples = [
        ("I want to cancel my order please", "cancel_order"),
        ("can you cancel the order", "cancel_order"),
        ("cancel it now", "cancel_order"),
        ("我的快递到哪了", "track_order"),
        ("快递到哪里了", "track_order"),
        ("快递还没到", "track_order"),
        ("tell me a joke", "out_of_scope"),
    ]
    forms = augment.keyword_forms(examples, tokens)
    assert ("cancel order", "cancel_order", 0) in forms
    assert all(intent != "out_of_scope" for _, intent, _ in forms)
    negatives = augment.negatives(examples, tokens, seed=1)
    assert all(intent == "out_of_scope" for _, intent, _ in negatives)
    made = [text for text, _, group in negatives if group < len(examples)]
    others = (*augment._ZH_OTHERS, *augment._EN_OTHERS)
    replaced = [text for text in made if any(other in text for other in others)]
    deleted = [text for text in made if text not in replaced]
    assert replaced  # "can you cancel the concert ticket": our words about someone else's business
    assert not [word for text in deleted for word in tokens(text) if word in augment.keywords(examples, tokens)]
    assert len(negatives) - len(made) == 240  # numbers, phones, codes, links, emoji, mashing


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("refundd pleasee", "refund"),
        ("my pacakge hasnt arived", "track_order"),
        ("i need an invioce", "invoice"),
        ("whereeee is my parcellll", "track_order"),
        ("exchnage for a smaller size", "exchange"),
        ("ＣＡＮＣＥＬ ＭＹ ＯＲＤＥＲ", "cancel_order"),
        ("tuihuo!!!", "return_goods"),
        ("有S码吗", "pre_sales"),
        ("多少钱啊亲", "pre_sales"),
        ("ship to macau?", "delivery_options"),
    ],
)
def test_messy_requests_are_understood(model: nlu.IntentModel, text: str, intent: str) -> None:
    understood = service.understand(text, TODAY)
    assert understood.intent == intent, understood.ranking


@pytest.mark.parametrize(
    "text",
    ["😅😅", "🍔", "139 8765 4321", "15012345678", "SO2612030000456", "#88812345", "9", "验证码 553201",
     "www.abc123.com", "cancel my train ticket", "我的机票改签"],
)  # fmt: skip
def test_noise_and_other_services_are_out_of_scope(model: nlu.IntentModel, text: str) -> None:
    understood = service.understand(text, TODAY)
    assert understood.intent == "out_of_scope", understood.ranking
    assert understood.intent not in ACTION_INTENTS


def test_pinyin_readings_come_without_loading_pypinyins_phrase_dictionary(model: nlu.IntentModel) -> None:
    import os
    import subprocess
    import sys

    assert views("退款还没到").pinyin == "tuikuanhaimeidao"
    env = {**os.environ, "AFTERSALES_CACHE_DIR": str(nlu.cache_dir().resolve())}
    script = (
        "import sys; from aftersales.assistant import service; "
        "u = service.understand('wo yao tuihuo 退货'); "
        "print(u.intent, 'pypinyin' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["return_goods", "False"]  # about 45 MB less in every web process
