"""Masking: abusive words (zh, en, disguised), phones, e-mail, addresses, and who sees contact data."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.kit import masking
from aftersales.kit.access import Role
from aftersales.kit.masking import (
    contact_for,
    contact_visibility,
    has_abuse,
    mask_abuse,
    mask_address,
    mask_contacts,
    mask_email,
    mask_phone,
)

# Text around a phone in the property tests: anything but digits (a digit next to a phone makes
# it part of a longer number, which is not a phone).
NO_DIGITS = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="+"), max_size=30
).map(lambda s: f" {s} ")
MOBILES = st.from_regex(r"\A1[3-9][0-9]{9}\Z", fullmatch=True)
INNOCENT = [
    "class",
    "classic",
    "assistant",
    "Scunthorpe",
    "passage",
    "assess",
    "bass",
    "cocktail",
    "Dickens",
    "therapist",
    "shiitake",
    "grasshopper",
    "hello",
    "sussex",
    "操作",
    "日期",
    "生日快乐",
    "傻瓜相机",
    "傻瓜式操作",
    "混账号",
    "快递",
    "质量",
    "服务态度",
    "退款",
]


def _word_entries(name: str) -> list[str]:
    entries, _ = masking._read(name)
    return entries


def test_word_lists_are_real_lists() -> None:
    zh, zh_innocent = masking._read("abusive_zh.txt")
    en, en_innocent = masking._read("abusive_en.txt")
    assert len(zh) >= 80 and len(en) >= 80
    assert "傻瓜相机" in zh_innocent and "scunthorpe" in en_innocent
    assert len(set(zh)) == len(zh) and len(set(en)) == len(en)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("你个傻逼", "你个＊＊"),
        ("傻 逼客服", "＊ ＊客服"),
        ("傻*逼", "＊＊＊"),
        ("我操你妈", "＊＊＊＊"),
        ("你这个傻瓜", "你这个＊＊"),
        ("草泥马的快递", "＊＊＊的快递"),
        ("fuck you", "＊＊＊＊ you"),
        ("FUCK this", "＊＊＊＊ this"),
        ("f u c k this", "＊ ＊ ＊ ＊ this"),
        ("sh1t service", "＊＊＊＊ service"),
        ("you are an a$$hole", "you are an ＊＊＊＊＊＊＊"),
        ("f*ck", "＊＊＊＊"),
        ("What the fucking hell", "What the ＊＊＊＊＊＊＊ hell"),
        ("stupid idiots", "＊＊＊＊＊＊ ＊＊＊＊＊＊"),
        ("cnm 退钱", "＊＊＊ 退钱"),
    ],
)
def test_abusive_words_are_masked_character_by_character(text: str, masked: str) -> None:
    assert mask_abuse(text) == masked
    assert has_abuse(text)


@pytest.mark.parametrize("word", INNOCENT)
def test_innocent_words_are_untouched(word: str) -> None:
    assert mask_abuse(word) == word
    assert mask_abuse(f"The {word} is fine. {word}!") == f"The {word} is fine. {word}!"


@given(st.lists(st.sampled_from(INNOCENT), min_size=1, max_size=12), st.sampled_from([" ", ", ", "。", "\n", "-"]))
@settings(max_examples=200, deadline=None)
def test_sentences_of_innocent_words_are_never_masked(words: list[str], sep: str) -> None:
    text = sep.join(words)
    assert mask_abuse(text) == text


@given(
    st.sampled_from(_word_entries("abusive_zh.txt") + _word_entries("abusive_en.txt")),
    st.sampled_from(["", "你们", "the ", "客服 ", "hey "]),
    st.sampled_from(["", "!", "。", " now", "，退钱"]),
)
@settings(max_examples=300, deadline=None)
def test_every_listed_word_is_masked_wherever_it_stands(word: str, before: str, after: str) -> None:
    masked = mask_abuse(f"{before}{word}{after}")
    assert word.lower() not in masked.lower()
    assert masked.startswith(before.rstrip() if before.endswith(" ") else before)


# --- phones --------------------------------------------------------------------------------------
@given(
    MOBILES,
    NO_DIGITS,
    NO_DIGITS,
    st.sampled_from(["{}", "+86 {}", "+86-{}", "0086{}", "86 {}", "{a} {b} {c}", "{a}-{b}-{c}"]),
)
@settings(max_examples=300, deadline=None)
def test_mobile_numbers_never_leak(mobile: str, before: str, after: str, shape: str) -> None:
    formatted = shape.format(mobile, a=mobile[:3], b=mobile[3:7], c=mobile[7:])
    masked = mask_phone(f"{before}{formatted}{after}")
    digits = re.sub(r"\D", "", masked)
    assert mobile not in digits
    assert f"{mobile[:3]}****{mobile[7:]}" in masked
    assert masked.startswith(before) and masked.endswith(after)


@given(st.from_regex(r"\A0[1-9][0-9]{1,2}\Z", fullmatch=True), st.from_regex(r"\A[2-8][0-9]{6,7}\Z", fullmatch=True))
@settings(max_examples=200, deadline=None)
def test_landlines_never_leak(area: str, local: str) -> None:
    for shape in (f"{area}-{local}", f"({area}) {local}", f"{area} {local}"):
        masked = mask_phone(f"座机：{shape}，谢谢")
        after_area = masked.split(area, 1)[1]
        # Of the local number only its last four digits remain.
        assert re.sub(r"\D", "", after_area) == local[-4:], masked
        assert masked.endswith(f"{local[-4:]}，谢谢")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 13812345678 now", "call 138****5678 now"),
        ("电话：138 1234 5678", "电话：138****5678"),
        ("+86 139-1234-5678", "+86 139****5678"),
        ("座机010-12345678", "座机010-****5678"),
        ("(0571) 8765 4321", "(0571)-****4321"),
        ("+86 10 8888 6666", "+86 10-****6666"),
        ("订单号 202611230001234 金额 2899.00", "订单号 202611230001234 金额 2899.00"),
        ("SKU MD-AC15, qty 2", "SKU MD-AC15, qty 2"),
    ],
)
def test_phone_shapes(text: str, masked: str) -> None:
    assert mask_phone(text) == masked


@given(
    st.from_regex(r"\A[a-z][a-z0-9._]{0,15}\Z", fullmatch=True),
    st.from_regex(r"\A[a-z][a-z0-9-]{0,10}\.(com|cn|com\.cn|org)\Z", fullmatch=True),
)
@settings(max_examples=200, deadline=None)
def test_email_local_parts_never_leak(user: str, domain: str) -> None:
    masked = mask_email(f"mail me at {user}@{domain} today")
    assert masked == f"mail me at {user[0]}***@{domain} today"
    assert mask_contacts(f"{user}@{domain} / 13812345678") == f"{user[0]}***@{domain} / 138****5678"


# --- addresses -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("广东省深圳市南山区科技园科苑路15号", "广东省深圳市南山区＊＊＊＊"),
        ("北京市朝阳区建国路88号SOHO现代城", "北京市朝阳区＊＊＊＊"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放南路1号", "新疆维吾尔自治区乌鲁木齐市天山区＊＊＊＊"),
        ("江苏省苏州市昆山市前进路100号3栋", "江苏省苏州市昆山市＊＊＊＊"),
        ("上海市 黄浦区 南京东路100号", "上海市 黄浦区＊＊＊＊"),
        ("建国路88号", "＊＊＊＊"),
        ("Room 5, 12 Main Street, Springfield, IL 62704", "＊＊＊＊, Springfield, IL 62704"),
        ("12 Main Street", "＊＊＊＊"),
        ("", ""),
    ],
)
def test_addresses_keep_province_city_district_only(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@given(st.from_regex(r"\A[\u4e00-\u9fa5]{2,6}路[0-9]{1,4}号([0-9]{1,2}栋[0-9]{3,4}室)?\Z", fullmatch=True))
@settings(max_examples=100, deadline=None)
def test_street_detail_never_leaks(street: str) -> None:
    masked = mask_address(f"浙江省杭州市西湖区{street}")
    assert masked == "浙江省杭州市西湖区＊＊＊＊"


# --- who sees contact data -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "visibility"),
    [
        (Role.CUSTOMER, "full"),
        (Role.AGENT_T1, "full"),
        (Role.AGENT_T2, "full"),
        (Role.SUPERVISOR, "full"),
        (Role.WAREHOUSE, "full"),
        (Role.RIDER, "full"),
        (Role.ADMIN, "full"),
        (Role.MERCHANT, "masked"),
        (Role.ARBITRATOR, "masked"),
        (Role.INTEGRATION, "masked"),
        ("someone_new", "masked"),
    ],
)
def test_contact_visibility_by_role(role: str, visibility: str) -> None:
    assert contact_visibility(role) == visibility


def test_every_role_has_a_decided_visibility() -> None:
    decided = masking.FULL_VIEW_ROLES | masking.MASKED_VIEW_ROLES | {Role.INTEGRATION.value}
    assert {r.value for r in Role} <= decided


def test_contact_for_masks_for_merchants_only() -> None:
    phone, address = "13812345678", "广东省深圳市南山区科苑路15号"
    assert contact_for(Role.AGENT_T1, phone, address) == (phone, address)
    assert contact_for(Role.MERCHANT, phone, address) == ("138****5678", "广东省深圳市南山区＊＊＊＊")
