"""Tokenisation, BM25 ranking, snippets and article checks of the knowledge base: pure, no database."""

from __future__ import annotations

import math
import re

import pytest

from aftersales.knowledge.domain import (
    BIGRAM_MARK,
    PHRASE_MARK,
    ArticleError,
    IndexDoc,
    SearchIndex,
    check_content,
    check_slug,
    normalize_lang,
    phrase_key,
    plain_text,
    query_terms,
    snippet,
    split_tags,
    tokenize,
)


def words(text: str) -> list[str]:
    return [t for t in tokenize(text) if not t.startswith(BIGRAM_MARK)]


def bigrams(text: str) -> set[str]:
    return {t.removeprefix(BIGRAM_MARK) for t in tokenize(text) if t.startswith(BIGRAM_MARK)}


# --- tokenisation --------------------------------------------------------------------------------
def test_chinese_phrases_become_words_without_stop_words() -> None:
    assert words("怎么退货") == ["退货"]
    tokens = words("退款多久到账了吗？")
    assert "退款" in tokens and "多久" in tokens
    assert not {"了", "吗", "？"} & set(tokens)
    # search mode also yields the shorter words inside a long one
    assert {"上门", "取件"} <= set(words("上门取件运费谁出"))


def test_chinese_runs_also_give_character_bigrams_split_at_stop_words() -> None:
    assert bigrams("退款到账了吗") == {"退款", "款到", "到账"}
    assert bigrams("我的订单") == {"订单"}  # 我的 is a stop word and cuts the run
    assert bigrams("退") == set()


def test_mixed_chinese_and_english() -> None:
    tokens = words("iPhone屏幕碎了怎么办，想退货 ASAP")
    assert tokens[0] == "iphone" and "asap" in tokens
    assert {"屏幕", "退货"} <= set(tokens)
    assert "怎么办" not in tokens


def test_english_is_lower_cased_without_stemming_or_stop_words() -> None:
    assert tokenize("How do I RETURN my Returns?") == ["return", "returns"]
    assert tokenize("The refund's status, please!") == ["refund", "status"]
    assert tokenize("7-day return, 30 days") == ["7", "day", "return", "30", "days"]


def test_full_width_text_and_punctuation() -> None:
    assert tokenize("ＡＢＣ　７天") == ["abc", "7", "天"]
    for token in tokenize("退货？！……【价保】“发票”《说明》 -- *** ###"):
        assert re.fullmatch(rf"{BIGRAM_MARK}?[\w]+", token), token
    assert tokenize("。，！？ ...") == []


def test_tokenisation_is_deterministic() -> None:
    text = "七天无理由退货，运费谁出？How long does a refund take?"
    assert tokenize(text) == tokenize(text)


def test_a_typo_keeps_most_bigrams() -> None:
    right, typo = bigrams("七天无理由退货"), bigrams("七天无理由退获")
    assert len(right & typo) >= 4


def test_phrase_keys_keep_only_content_words() -> None:
    assert phrase_key("怎么退货") == phrase_key("我想退货") == "退货"
    assert phrase_key("how do I return") == phrase_key("How to return?") == "return"
    assert phrase_key("吗") == ""  # one character names nothing
    assert PHRASE_MARK + "退货" in query_terms("怎么退货")


# --- BM25 ----------------------------------------------------------------------------------------
def doc(doc_id: int, title: str = "", body: str = "", tags: tuple[str, ...] = ()) -> IndexDoc:
    return IndexDoc(doc_id, title, tags, body)


def test_one_term_scores_as_the_bm25_formula_says() -> None:
    index = SearchIndex([doc(1, body="alpha beta"), doc(2, body="gamma delta epsilon zeta")])
    [match] = index.search("alpha")
    # N=2, df=1: idf = ln(1 + 1.5/1.5); body length 2 against an average of 3
    tf = 1 / (1 - 0.75 + 0.75 * 2 / 3)
    expected = math.log(2) * tf * 2.5 / (tf + 1.5)
    assert match.doc_id == 1 and match.score == pytest.approx(expected, abs=1e-4)
    assert match.coverage == 1.0


def test_title_outweighs_tags_outweighs_body() -> None:
    index = SearchIndex(
        [
            doc(1, title="other words", body="parcel"),
            doc(2, title="other words", tags=("parcel box",), body="more"),
            doc(3, title="parcel words", tags=("other box",), body="more"),
            doc(4, title="unrelated", body="nothing"),
        ]
    )
    assert [m.doc_id for m in index.search("parcel")] == [3, 2, 1]


def test_rare_terms_count_more_than_common_ones() -> None:
    index = SearchIndex([doc(1, body="refund invoice"), doc(2, body="refund delivery"), doc(3, body="refund address")])
    assert index.search("refund invoice")[0].doc_id == 1
    assert index.search("refund delivery")[0].doc_id == 2


def test_shorter_fields_win_and_repetition_saturates() -> None:
    index = SearchIndex([doc(1, body="invoice " + "filler " * 30), doc(2, body="invoice")])
    assert index.search("invoice")[0].doc_id == 2
    many = SearchIndex([doc(1, body="invoice " * 50), doc(2, body="invoice"), doc(3, body="other")])
    scores = {m.doc_id: m.score for m in many.search("invoice")}
    assert scores[1] < 2.5 * scores[2]  # k1 caps what repeating a word can buy


def test_ties_go_to_the_lower_id_and_limits_hold() -> None:
    index = SearchIndex([doc(7, body="same"), doc(3, body="same"), doc(5, body="same")])
    assert [m.doc_id for m in index.search("same")] == [3, 5, 7]
    assert [m.doc_id for m in index.search("same", limit=2)] == [3, 5]
    assert index.search("same", limit=0) == []


def test_min_share_drops_weak_hits() -> None:
    index = SearchIndex([doc(1, title="invoice reissue", body="invoice"), doc(2, body="a long text " * 20 + "invoice")])
    assert [m.doc_id for m in index.search("invoice reissue")] == [1, 2]
    assert [m.doc_id for m in index.search("invoice reissue", min_share=0.2)] == [1]


def test_nothing_matches_nothing() -> None:
    assert SearchIndex([]).search("退货") == []
    index = SearchIndex([doc(1, title="退货", body="退货")])
    assert index.search("") == [] and index.search("？！") == [] and index.search("weather") == []


def test_both_languages_and_typos_find_the_article() -> None:
    index = SearchIndex(
        [
            doc(1, title="七天无理由退货\n7-day no-reason returns", body="签收次日起七天内可退 Return within 7 days"),
            doc(2, title="退款多久到账\nRefund times", body="退款原路退回 Refunds go back to your payment"),
        ]
    )
    assert index.search("七天无理由退获")[0].doc_id == 1
    assert index.search("no-reason return")[0].doc_id == 1
    assert index.search("退款多久到帐")[0].doc_id == 2
    partial = index.search("七天无理由退获")[0]
    assert 0 < partial.coverage < 1


def test_an_exact_tag_phrase_names_its_article() -> None:
    index = SearchIndex(
        [doc(1, title="退货政策", body="退货 退货 退货"), doc(2, title="退货流程", tags=("怎么退货",), body="寄回")]
    )
    assert index.search("我想退货")[0].doc_id == 2


# --- snippets and Markdown -----------------------------------------------------------------------
def test_plain_text_drops_markdown() -> None:
    md = "## 标题\n\n- **加粗** 和 [链接](/help/x)\n1. step `one`\n\n| a | b |\n|---|---|\n| c | d |\n"
    assert plain_text(md) == "标题\n加粗 和 链接\nstep one\na b\nc d"


def test_snippet_quotes_the_sentence_that_answers() -> None:
    body = "# 退款\n\n所有退款原路退回。支付宝通常几分钟内到账。信用卡 1–7 个工作日。\n\n优惠券退回账户。"
    text = snippet(body, "信用卡多久到账", width=40)
    assert "信用卡" in text or "到账" in text
    assert len(text) <= 24  # a Chinese character takes two columns
    assert snippet(body, "weather", width=20).startswith("退款")


def test_snippet_cuts_long_sentences_around_the_match() -> None:
    body = "word " * 80 + "invoice reissue here " + "tail " * 80
    text = snippet(body, "invoice", width=60)
    assert "invoice" in text and text.startswith("… ") and text.endswith(" …")
    assert len(text) <= 66


# --- article checks ------------------------------------------------------------------------------
def content(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "category": "returns",
        "title_zh": "标题",
        "title_en": "Title",
        "body_zh": "正文",
        "body_en": "Body",
        "tags": ["a", " a ", "b", ""],
    }
    values.update(overrides)
    return values


def test_content_is_trimmed_and_tags_deduplicated() -> None:
    checked = check_content(**content(title_zh="  标题 "))  # type: ignore[arg-type]
    assert checked.title_zh == "标题" and checked.tags == ("a", "b")


@pytest.mark.parametrize(
    ("overrides", "words_"),
    [
        ({"category": "toys"}, "category 'toys' is unknown"),
        ({"title_en": " "}, "English title is empty"),
        ({"title_zh": "长" * 201}, "Chinese title is 201 characters"),
        ({"body_zh": ""}, "Chinese text is empty"),
        ({"tags": ["x" * 41]}, "too long"),
        ({"tags": [f"t{i}" for i in range(31)]}, "at most 30 tags"),
    ],
)
def test_bad_content_is_refused_with_a_sentence(overrides: dict[str, object], words_: str) -> None:
    with pytest.raises(ArticleError, match=words_):
        check_content(**content(**overrides))  # type: ignore[arg-type]


def test_slugs() -> None:
    assert check_slug(" returns-7-day ") == "returns-7-day"
    for bad in ("", "Returns", "-x", "x-", "退货", "a_b", "a" * 121):
        with pytest.raises(ArticleError, match="lower-case letters"):
            check_slug(bad)
    with pytest.raises(ArticleError, match="reserved"):
        check_slug("search")


def test_tags_from_a_form_and_languages() -> None:
    assert split_tags("退货, 退款，发票、价保;\nreturn ; ") == ["退货", "退款", "发票", "价保", "return"]
    assert [normalize_lang(v) for v in ("zh", "zh-CN", "zh_Hans", "", None, "en", "en-US", "fr")] == [
        "zh-CN",
        "zh-CN",
        "zh-CN",
        "zh-CN",
        "zh-CN",
        "en",
        "en",
        "en",
    ]
