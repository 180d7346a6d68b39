"""Entities by rules: order and case numbers, phones, amounts, dates and products, zh and en."""

from __future__ import annotations

from datetime import date

import pytest

from aftersales.understanding.dates import find_dates
from aftersales.understanding.entities import extract, mask_numbers
from aftersales.understanding.normalising import normalise

TODAY = date(2026, 11, 22)  # a Sunday


def ents(text: str) -> dict[str, object]:
    return extract(text, TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的订单SO2611220000123还没到", "SO2611220000123"),
        ("order so2611220000123 where is it", "SO2611220000123"),
        ("订单号：４５６７８９０１２３４５", "456789012345"),  # full-width digits
        ("订单号是 88812345", "88812345"),
        ("order number 77700012345 hasn't shipped", "77700012345"),
        ("order #12345678 please", "12345678"),
        ("是这个 261122000012399 单子", "261122000012399"),  # a bare long digit run
    ],
)
def test_order_numbers(text: str, expected: str) -> None:
    assert ents(text)["order_number"] == expected


def test_case_and_tracking_numbers() -> None:
    assert ents("售后单AS2611220000001进度")["case_number"] == "AS2611220000001"
    found = ents("快递单号 SF1234567890123 一直不动")
    assert found["tracking_number"] == "SF1234567890123"
    assert "order_number" not in found


@pytest.mark.parametrize(
    "text",
    ["电话13812345678", "call me at +86 138 1234 5678", "手机 138-1234-5678", "tel:+8613812345678", "0086 13812345678"],
)
def test_chinese_mobile_numbers(text: str) -> None:
    found = ents(text)
    assert found["phone"] == "13812345678"
    assert "order_number" not in found
    assert "amount" not in found


def test_a_phone_inside_a_longer_number_is_not_a_phone() -> None:
    assert "phone" not in ents("单号 4513812345678901")


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("退款199.5元咋还没到", "199.5", "CNY"),
        ("我付了¥1,299.00", "1299.00", "CNY"),
        ("才50块钱", "50", "CNY"),
        ("100 RMB", "100", "CNY"),
        ("CNY 88", "88", "CNY"),
        ("paid $45.99 for it", "45.99", "USD"),
        ("it cost 20 bucks", "20", "USD"),
        ("charged 199.5 twice", "199.5", "CNY"),
        ("差价30", "30", "CNY"),
        ("花了３００块", "300", "CNY"),
    ],
)
def test_amounts(text: str, amount: str, currency: str) -> None:
    found = ents(text)
    assert (found["amount"], found["currency"]) == (amount, currency)


@pytest.mark.parametrize("text", ["空调 1.5匹", "车厘子 2.5kg", "7天无理由", "打12315", "买了2件"])
def test_quantities_are_not_amounts(text: str) -> None:
    assert "amount" not in ents(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天到了", "2026-11-22"),
        ("昨天申请的退款", "2026-11-21"),
        ("前天买的", "2026-11-20"),
        ("大前天", "2026-11-19"),
        ("上周买的书", "2026-11-15"),
        ("上周三下的单", "2026-11-11"),
        ("周三下的单", "2026-11-18"),
        ("星期天收到", "2026-11-22"),
        ("11月3号买的耳机", "2026-11-03"),
        ("12月1日能到吗", "2026-12-01"),
        ("1月5号买的", "2026-01-05"),  # past, not 44 days ahead
        ("2026-11-03 下单", "2026-11-03"),
        ("2026年11月3日", "2026-11-03"),
        ("三天前付的款", "2026-11-19"),
        ("两周前", "2026-11-08"),
        ("上个月买的", "2026-10-22"),
        ("yesterday", "2026-11-21"),
        ("the day before yesterday", "2026-11-20"),
        ("ordered last week", "2026-11-15"),
        ("last wednesday", "2026-11-18"),
        ("on monday", "2026-11-16"),
        ("bought on nov 3rd", "2026-11-03"),
        ("3 November 2025", "2025-11-03"),
        ("11/03 order", "2026-11-03"),
        ("a week ago", "2026-11-15"),
        ("5 days ago", "2026-11-17"),
    ],
)
def test_dates_relative_to_today(text: str, expected: str) -> None:
    assert ents(text)["date"] == expected


def test_no_date_in_order_numbers_or_durations() -> None:
    assert "date" not in ents("SO2026110300001 到哪了")
    assert "date" not in ents("maybe 3 of them")
    assert find_dates(normalise("2026-02-30"), TODAY) == []  # not a real day


@pytest.mark.parametrize(
    ("text", "product", "category"),
    [
        ("我买的耳机坏了", "耳机", "electronics"),
        ("上周买的无线耳机", "无线耳机", "electronics"),
        ("my headphones broke", "headphones", "electronics"),
        ("空调不制冷", "空调", "home_appliances"),
        ("the air conditioner leaks", "air conditioner", "home_appliances"),
        ("奶粉什么时候到", "奶粉", "baby_maternal"),
        ("婴儿推车轮子坏了", "婴儿推车", "baby_maternal"),
        ("T恤小了", "t恤", "apparel"),
        ("羽绒服跑绒", "羽绒服", "apparel"),
        ("买的书少了一本", "书", "books"),
        ("the stroller is too heavy", "stroller", "baby_maternal"),
    ],
)
def test_products(text: str, product: str, category: str) -> None:
    found = ents(text)
    assert (found["product"], found["product_category"]) == (product, category)


def test_words_containing_a_product_word_are_not_products() -> None:
    assert "product" not in ents("说明书看不懂")
    assert "product" not in ents("手机号换了")


def test_nothing_found_in_plain_text() -> None:
    assert ents("你好") == {}
    assert ents("hello there") == {}


def test_masking_replaces_identifiers_and_keeps_short_numbers() -> None:
    masked = mask_numbers(normalise("SO2611220000123 退款199元 电话13812345678 打12315 7天无理由"))
    assert "ordernox" in masked and "amountx" in masked and "phonex" in masked
    assert "12315" in masked and "7天" in masked
    assert "2611220000123" not in masked
