"""Ticket classification against a labelled set written for this test (zh, en, mixed, typos), plus
the ways order facts must change the outcome, threat and dispute detection, accuracy reports and
the taxonomy file's checks."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftersales.rules import domain as rules_domain
from aftersales.tickets import taxonomy
from aftersales.tickets.classification import (
    Classification,
    TicketFacts,
    accuracy,
    classify,
    priority_facts,
    warm_up,
)

# Order situations the labelled tickets refer to.
NONE = TicketFacts()
DELIVERED = TicketFacts(order_number="SO-1", category="home_appliances", merchant_kind="self_operated", delivered=True)
DELIVERED_POP = TicketFacts(order_number="SO-2", category="apparel", merchant_kind="pop", delivered=True)
BABY_POP = TicketFacts(order_number="SO-3", category="baby_maternal", merchant_kind="pop", delivered=True)
FOOD = TicketFacts(order_number="SO-4", category="fresh_food", merchant_kind="self_operated", delivered=True)
ON_TIME = TicketFacts(order_number="SO-5", category="electronics", merchant_kind="self_operated")
LATE = TicketFacts(order_number="SO-6", category="electronics", merchant_kind="self_operated", days_late=3)
LATE_POP = TicketFacts(order_number="SO-7", category="apparel", merchant_kind="pop", days_late=2)

# (text, facts, responsibility, scenario): what an experienced agent would file each ticket under.
LABELLED: list[tuple[str, TicketFacts, str, str]] = [
    # --- product.defect --------------------------------------------------------------------------
    ("空调装好以后根本不制冷，师傅说是压缩机的问题", DELIVERED, "merchant", "product.defect"),
    ("电饭煲通电没反应，指示灯都不亮", DELIVERED, "merchant", "product.defect"),
    ("耳机右边没声音，用了两天就这样了", DELIVERED, "merchant", "product.defect"),
    ("The air purifier won't turn on at all, tried every socket", DELIVERED, "merchant", "product.defect"),
    ("my earbuds stopped working after a week, left one is dead", DELIVERED, "merchant", "product.defect"),
    ("iPad 屏幕有一个亮点，还有点闪屏", DELIVERED, "merchant", "product.defect"),
    ("The tablet has a dead pixel right in the middle of the screen", DELIVERED, "merchant", "product.defect"),
    ("充电器插上去没反应，充不进电", DELIVERED, "merchant", "product.defect"),
    ("laptop charger doesnt charge anymore, battery drains fast too", DELIVERED, "merchant", "product.defect"),
    ("洗衣机脱水的时候异响特别大，咔咔响", DELIVERED, "merchant", "product.defect"),
    ("the washing machine makes a loud grinding noise when spinning", DELIVERED, "merchant", "product.defect"),
    ("T恤洗了一次就缩水了，还掉色", DELIVERED_POP, "merchant", "product.defect"),
    (
        "the hoodie started pilling after one wash and the stitching came apart",
        DELIVERED_POP,
        "merchant",
        "product.defect",
    ),
    ("羽绒服一直钻绒，穿一天身上全是毛", DELIVERED_POP, "merchant", "product.defect"),
    ("车厘子一半都烂了，还有发霉的", FOOD, "merchant", "product.defect"),
    ("the steak smelled off and was clearly spoiled", FOOD, "merchant", "product.defect"),
    ("大闸蟹收到有三只死蟹", FOOD, "merchant", "product.defect"),
    ("奶粉快过期了，生产日期是两年前", BABY_POP, "merchant", "product.defect"),
    ("the formula is expired, best before date was last month", BABY_POP, "merchant", "product.defect"),
    ("奶瓶有很大的塑料味，刺鼻", BABY_POP, "merchant", "product.defect"),
    ("纸尿裤用了宝宝屁屁起红疹子", BABY_POP, "merchant", "product.defect"),
    ("my baby got a rash from these diapers", BABY_POP, "merchant", "product.defect"),
    ("怀疑是假货，防伪码查不到", DELIVERED_POP, "merchant", "product.defect"),
    ("These are fake AirPods, definitely not genuine", DELIVERED, "merchant", "product.defect"),
    ("实物和图片差别太大，货不对板", DELIVERED_POP, "merchant", "product.defect"),
    ("the jeans look nothing like the picture, totally not as described", DELIVERED_POP, "merchant", "product.defect"),
    ("电饭煲用的时候冒烟了，还有烧焦的味道，太危险了", DELIVERED, "merchant", "product.defect"),
    ("the charger sparked and there was smoke, this is dangerous", DELIVERED, "merchant", "product.defect"),
    ("收到的iPad有激活记录，是翻新机吧", DELIVERED, "merchant", "product.defect"),
    ("鼠标蓝牙老是断连，根本没法用", DELIVERED, "merchant", "product.defect"),
    ("the mouse keeps disconnecting from bluetooth", DELIVERED, "merchant", "product.defect"),
    ("奶粉冲不开，有结块", BABY_POP, "merchant", "product.defect"),
    ("推车的刹车失灵了，很危险", BABY_POP, "merchant", "product.defect"),
    ("blender is defective, motor only runs for 2 seconds", DELIVERED, "merchant", "product.defect"),
    ("用了三天就坏了，开不了机", DELIVERED, "merchant", "product.defect"),
    # --- product.damage -------------------------------------------------------------------------
    ("收到的时候外箱破了，里面的净化器外壳也摔裂了", DELIVERED, "logistics", "product.damage"),
    ("快递送来的时候屏幕就碎了", DELIVERED, "logistics", "product.damage"),
    ("the glass bottle arrived smashed, milk everywhere", BABY_POP, "logistics", "product.damage"),
    ("Package arrived damaged, the box was crushed and the lid is dented", DELIVERED, "logistics", "product.damage"),
    ("洗衣机侧面有个大凹陷，应该是运输中压的", DELIVERED, "logistics", "product.damage"),
    (
        "the iPad has scratches all over the back, looks like it was thrown around",
        DELIVERED,
        "logistics",
        "product.damage",
    ),
    ("冰袋都化了，牛排送到时是热的", FOOD, "logistics", "product.damage"),
    ("the crabs arrived warm, ice packs melted completely", FOOD, "logistics", "product.damage"),
    ("纸箱被雨淋湿了，书都泡水了", DELIVERED, "logistics", "product.damage"),
    ("books came soaked, water damage on every page", DELIVERED, "logistics", "product.damage"),
    ("包裹被拆过，封条被撕了", DELIVERED, "logistics", "product.damage"),
    ("someone opened my parcel before it reached me, the seal was broken", DELIVERED, "logistics", "product.damage"),
    ("一打开就是碎的，杯子碎成好几块", DELIVERED, "logistics", "product.damage"),
    ("received it broken, the screen is cracked", DELIVERED, "logistics", "product.damage"),
    ("电饭煲内胆磕了一块掉漆", DELIVERED, "logistics", "product.damage"),
    # --- product.wrong_item ---------------------------------------------------------------------
    ("我买的是M码，发来的是XL，尺码发错了", DELIVERED_POP, "merchant", "product.wrong_item"),
    ("ordered a medium, got an XL. wrong size sent", DELIVERED_POP, "merchant", "product.wrong_item"),
    ("颜色发错了，我要的白色，收到黑色", DELIVERED_POP, "merchant", "product.wrong_item"),
    ("I ordered black jeans but you sent me blue ones, wrong colour", DELIVERED_POP, "merchant", "product.wrong_item"),
    ("买的256G版本，发来的是128G，型号不对", DELIVERED, "merchant", "product.wrong_item"),
    ("wrong model, I paid for the 256GB iPad and got the 128GB", DELIVERED, "merchant", "product.wrong_item"),
    ("收到的根本不是我买的东西，我买的奶瓶，来的是尿不湿", BABY_POP, "merchant", "product.wrong_item"),
    (
        "this is not what I ordered at all, I received a phone case instead of a charger",
        DELIVERED,
        "merchant",
        "product.wrong_item",
    ),
    ("you sent me the wrong iteam", DELIVERED, "merchant", "product.wrong_item"),
    ("收到一个别人的包裹，面单上的名字不是我", DELIVERED, "logistics", "product.wrong_item"),
    # --- product.missing_item -------------------------------------------------------------------
    ("空调少了遥控器，包装里没有", DELIVERED, "merchant", "product.missing_item"),
    ("box had no charger and no cable, missing accessories", DELIVERED, "merchant", "product.missing_item"),
    ("买了两件只收到一件，少发了", DELIVERED_POP, "merchant", "product.missing_item"),
    ("I ordered 3 shirts and only received one", DELIVERED_POP, "merchant", "product.missing_item"),
    ("说好的赠品没有，漏发赠品了", DELIVERED_POP, "merchant", "product.missing_item"),
    ("the free gift was missing from my order", DELIVERED_POP, "merchant", "product.missing_item"),
    ("收到一个空盒子，里面什么都没有", DELIVERED, "logistics", "product.missing_item"),
    ("the box was empty when I opened it, nothing inside", DELIVERED, "logistics", "product.missing_item"),
    ("推车少了个轮子的螺丝，缺零件装不上", BABY_POP, "merchant", "product.missing_item"),
    (
        "one item is missing from the order, the receipt lists 4 but there are 3",
        DELIVERED,
        "merchant",
        "product.missing_item",
    ),
    # --- service.attitude -----------------------------------------------------------------------
    ("你们客服态度太差了，说两句就不耐烦", DELIVERED, "platform", "service.attitude"),
    ("the agent was extremely rude and hung up on me", DELIVERED, "platform", "service.attitude"),
    ("商家客服态度恶劣，还骂人", DELIVERED_POP, "merchant", "service.attitude"),
    ("发了十几条消息都没人回复，已读不回", DELIVERED_POP, "merchant", "service.attitude"),
    ("I've sent 5 messages and nobody replies, I'm being ignored", DELIVERED, "platform", "service.attitude"),
    ("客服和快递互相推诿，踢皮球", DELIVERED, "platform", "service.attitude"),
    ("you keep transferring me between departments, what a runaround", DELIVERED, "platform", "service.attitude"),
    ("快递员态度很差，把包裹直接扔在地上", DELIVERED, "logistics", "service.attitude"),
    ("the courier was rude and threw my parcel over the fence", DELIVERED, "logistics", "service.attitude"),
    ("商家天天打电话骚扰我让我改好评", DELIVERED_POP, "merchant", "service.attitude"),
    ("客服一问三不知，答非所问", DELIVERED, "platform", "service.attitude"),
    # --- service.broken_promise -----------------------------------------------------------------
    ("退货都寄回去一周了，退款还没到账", DELIVERED, "platform", "service.broken_promise"),
    ("returned the item 10 days ago and still no refund", DELIVERED, "platform", "service.broken_promise"),
    ("客服说好今天给我回电话，到现在也没回电", DELIVERED, "platform", "service.broken_promise"),
    ("agent promised to call back yesterday, never called back", DELIVERED, "platform", "service.broken_promise"),
    ("上次说好的补偿券一直没发", DELIVERED, "platform", "service.broken_promise"),
    ("I was promised a coupon as compensation and it never came", DELIVERED, "platform", "service.broken_promise"),
    ("满减没减，多收了我五十块", DELIVERED, "platform", "service.broken_promise"),
    (
        "the discount wasn't applied at checkout, I was charged full price",
        DELIVERED,
        "platform",
        "service.broken_promise",
    ),
    ("商家说好的发票一直不开", DELIVERED_POP, "merchant", "service.broken_promise"),
    ("预约了上门取件，取件员一直没来", DELIVERED, "logistics", "service.broken_promise"),
    ("booked a return pickup but nobody came to collect it", DELIVERED, "logistics", "service.broken_promise"),
    ("明明是质量问题商家不给换货", DELIVERED_POP, "merchant", "service.broken_promise"),
    ("说好次日达，结果第三天才送到", DELIVERED, "logistics", "service.broken_promise"),
    # --- experience.late_delivery ---------------------------------------------------------------
    ("我的包裹到哪里了？都三天了", LATE, "logistics", "experience.late_delivery"),
    ("where is my parcel??", LATE, "logistics", "experience.late_delivery"),
    ("怎么还没到啊，说好前天到的", LATE, "logistics", "experience.late_delivery"),
    ("物流信息三天没更新了，一直停在杭州转运中心", LATE, "logistics", "experience.late_delivery"),
    ("tracking hasn't updated in 4 days, stuck in Shanghai", LATE, "logistics", "experience.late_delivery"),
    ("下单五天了还没发货", LATE_POP, "merchant", "experience.late_delivery"),
    ("it's been a week and my order still hasn't shipped", LATE_POP, "merchant", "experience.late_delivery"),
    ("显示已签收，可我根本没收到", DELIVERED, "logistics", "experience.late_delivery"),
    ("tracking says delivered but I never got it", DELIVERED, "logistics", "experience.late_delivery"),
    ("快递员说包裹丢了", LATE, "logistics", "experience.late_delivery"),
    ("the courier lost my package", LATE, "logistics", "experience.late_delivery"),
    ("快递送错地址了，送到隔壁小区", DELIVERED, "logistics", "experience.late_delivery"),
    ("不送货上门，直接放驿站也不打电话", DELIVERED, "logistics", "experience.late_delivery"),
    ("havent recieved my pakage yet, its late", LATE, "logistics", "experience.late_delivery"),
    ("still waiting for my order, this is taking forever", LATE, "logistics", "experience.late_delivery"),
    # --- experience.packaging -------------------------------------------------------------------
    ("包装太简陋了，就一个塑料袋", DELIVERED_POP, "merchant", "experience.packaging"),
    ("poorly packed, the glass was just thrown in a thin bag", DELIVERED, "merchant", "experience.packaging"),
    ("易碎品连个气泡膜都没有", DELIVERED, "merchant", "experience.packaging"),
    ("no bubble wrap, no padding at all for a fragile item", DELIVERED, "merchant", "experience.packaging"),
    ("过度包装，一个小耳机用这么大的箱子", DELIVERED, "merchant", "experience.packaging"),
    ("外包装很脏，上面还有脚印", DELIVERED, "logistics", "experience.packaging"),
    # --- consultation ---------------------------------------------------------------------------
    ("这个可以七天无理由退货吗？", DELIVERED_POP, "platform", "consultation"),
    ("How do I return an item I bought last week?", DELIVERED, "platform", "consultation"),
    ("什么时候发货呀", ON_TIME, "platform", "consultation"),
    ("when will my order arrive?", ON_TIME, "platform", "consultation"),
    ("我的快递到哪了？", ON_TIME, "platform", "consultation"),
    ("怎么开增值税专用发票", DELIVERED, "platform", "consultation"),
    ("I need a VAT invoice for my company", DELIVERED, "platform", "consultation"),
    ("能帮我改一下收货地址吗", ON_TIME, "platform", "consultation"),
    ("can I change my delivery address please", ON_TIME, "platform", "consultation"),
    ("这款推车适合几个月的宝宝用", NONE, "merchant", "consultation"),
    ("how do I install the air conditioner remote app", NONE, "merchant", "consultation"),
    ("这个空调保修几年", NONE, "platform", "consultation"),
    ("可以用花呗分期吗", NONE, "platform", "consultation"),
    ("I want to cancel my order", ON_TIME, "platform", "consultation"),
    ("退款多久能到账？", DELIVERED, "platform", "consultation"),
    ("忘记密码了登录不了", NONE, "platform", "consultation"),
    # --- other ----------------------------------------------------------------------------------
    ("我自己地址填错了，能帮忙改派吗", ON_TIME, "customer", "other"),
    ("my mistake, I ordered the wrong size, can I swap it", DELIVERED_POP, "customer", "other"),
    ("不想要了，不喜欢这个颜色", DELIVERED_POP, "customer", "other"),
    ("changed my mind, I don't need it anymore", DELIVERED, "customer", "other"),
    ("客服小姐姐服务很好，表扬一下", DELIVERED, "platform", "other"),
    ("thanks a lot, great service from your team", DELIVERED, "platform", "other"),
    ("有人冒充你们客服打电话给我，说要退款让我转账", NONE, "platform", "other"),
]

# Written after the keywords were last tuned and never tuned against: the honest estimate of how
# the classifier does on new tickets (docs/classification.md reports both figures).
HELDOUT: list[tuple[str, TicketFacts, str, str]] = [
    ("热水壶烧水的时候底座漏电，手麻了一下", DELIVERED, "merchant", "product.defect"),
    ("吸尘器吸力特别小，跟新的一样没用过几次", DELIVERED, "merchant", "product.defect"),
    ("the left earbud has no sound at all", DELIVERED, "merchant", "product.defect"),
    ("裤子拉链第一次穿就坏了", DELIVERED_POP, "merchant", "product.defect"),
    ("the strawberries were mouldy on arrival", FOOD, "merchant", "product.defect"),
    ("牛排有一股酸臭味，肯定变质了", FOOD, "merchant", "product.defect"),
    ("奶粉里面吃出了一根头发", BABY_POP, "merchant", "product.defect"),
    ("this 'leather' bag is obviously fake, the logo is wrong", DELIVERED_POP, "merchant", "product.defect"),
    ("鞋子开胶了，才穿了一周", DELIVERED_POP, "merchant", "product.defect"),
    ("the kettle leaks from the bottom", DELIVERED, "merchant", "product.defect"),
    ("电视机收到就是黑屏，开机只有声音没有画面", DELIVERED, "merchant", "product.defect"),
    ("快递把我的花瓶压碎了", DELIVERED, "logistics", "product.damage"),
    ("the TV box was crushed and the screen has a crack", DELIVERED, "logistics", "product.damage"),
    ("鸡蛋碎了一大半，蛋液流得到处都是", FOOD, "logistics", "product.damage"),
    ("The frozen dumplings had completely thawed when they arrived", FOOD, "logistics", "product.damage"),
    ("书的封面被压得皱巴巴的，角都折了", DELIVERED, "logistics", "product.damage"),
    ("my parcel was soaking wet and the shoes inside are ruined", DELIVERED, "logistics", "product.damage"),
    ("外壳有明显的磕痕，像是运输时磕的", DELIVERED, "logistics", "product.damage"),
    ("订的是蓝色的，收到的是粉色", DELIVERED_POP, "merchant", "product.wrong_item"),
    ("you sent the small size but I ordered a large", DELIVERED_POP, "merchant", "product.wrong_item"),
    ("我买的是洗衣液，寄来的是洗洁精", DELIVERED, "merchant", "product.wrong_item"),
    ("received a completely different product from what I bought", DELIVERED, "merchant", "product.wrong_item"),
    ("套装里少了一个杯子", DELIVERED, "merchant", "product.missing_item"),
    ("the package only contained 2 of the 4 bottles I paid for", DELIVERED, "merchant", "product.missing_item"),
    ("说明书和保修卡都没有", DELIVERED, "merchant", "product.missing_item"),
    ("the screws to assemble the stroller are missing", BABY_POP, "merchant", "product.missing_item"),
    ("在线客服说话很冲，一点耐心都没有", DELIVERED, "platform", "service.attitude"),
    ("your support person was condescending and unhelpful", DELIVERED, "platform", "service.attitude"),
    ("找了三次客服都没有人理我", DELIVERED, "platform", "service.attitude"),
    ("送货的司机骂骂咧咧的，态度太差", DELIVERED, "logistics", "service.attitude"),
    ("nobody has answered my emails for a week", DELIVERED, "platform", "service.attitude"),
    ("答应给我退差价的，到现在也没退", DELIVERED, "platform", "service.broken_promise"),
    ("you promised me a refund within 3 days, it has been two weeks", DELIVERED, "platform", "service.broken_promise"),
    ("客服承诺48小时内处理，结果没人管了", DELIVERED, "platform", "service.broken_promise"),
    ("the cashback from the promotion never came", DELIVERED, "platform", "service.broken_promise"),
    ("快递一直显示运输中，已经一个星期了", LATE, "logistics", "experience.late_delivery"),
    ("my order is 5 days overdue, what is going on", LATE, "logistics", "experience.late_delivery"),
    ("付款一周了商家还不发货", LATE_POP, "merchant", "experience.late_delivery"),
    ("说是已经送到了，我家门口什么都没有", DELIVERED, "logistics", "experience.late_delivery"),
    ("the package seems to be lost, no update since monday", LATE, "logistics", "experience.late_delivery"),
    ("怎么这么慢，别家两天就到了", LATE, "logistics", "experience.late_delivery"),
    ("箱子里一点填充物都没有，东西在里面晃来晃去", DELIVERED, "merchant", "experience.packaging"),
    ("the packaging was way too flimsy for a glass item", DELIVERED, "merchant", "experience.packaging"),
    ("一个手机壳用了三层箱子，太浪费了", DELIVERED, "merchant", "experience.packaging"),
    ("请问这个支持七天无理由吗", NONE, "platform", "consultation"),
    ("does this charger work with an iPhone 15?", NONE, "merchant", "consultation"),
    ("我想问一下会员有什么优惠", NONE, "platform", "consultation"),
    ("can you tell me the tracking number for my order", ON_TIME, "platform", "consultation"),
    ("发票可以开公司抬头吗", DELIVERED, "platform", "consultation"),
    ("how long is the warranty on this vacuum", NONE, "platform", "consultation"),
    ("订单能不能取消", ON_TIME, "platform", "consultation"),
    ("我下单的时候选错了颜色，能换吗", DELIVERED_POP, "customer", "other"),
    ("I don't like how it looks on me, changed my mind", DELIVERED_POP, "customer", "other"),
    ("谢谢你们的快速处理，非常满意", DELIVERED, "platform", "other"),
    ("建议你们的App增加夜间模式", NONE, "platform", "other"),
    ("物流好慢啊，而且外箱还破了", DELIVERED, "logistics", "product.damage"),
    ("快递员没打电话就把包裹放快递柜了", DELIVERED, "logistics", "experience.late_delivery"),
    ("the seller keeps calling me to change my 1-star review", DELIVERED_POP, "merchant", "service.attitude"),
    ("收到的奶粉罐子瘪了一块", BABY_POP, "logistics", "product.damage"),
    ("耳机盒子里没有充电线", DELIVERED, "merchant", "product.missing_item"),
]
HELDOUT_FLOOR = 0.7

SCENARIO_FLOOR = 0.85
RESPONSIBILITY_FLOOR = 0.85


def test_the_labelled_set_is_large_and_covers_every_scenario() -> None:
    assert len(LABELLED) >= 120
    assert {scenario for _, _, _, scenario in LABELLED} == set(taxonomy.load().scenario_ids)
    assert sum(1 for text, *_ in LABELLED if any("\u4e00" <= ch <= "\u9fff" for ch in text)) >= 50


def test_accuracy_on_the_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    predicted = [(classify(text, facts), {"responsibility": r, "scenario": s}) for text, facts, r, s in LABELLED]
    report = accuracy(predicted)
    with capsys.disabled():
        print(
            f"\nclassification on {report.total} labelled tickets: scenario {report.scenario_accuracy:.1%}, "
            f"responsibility {report.responsibility_accuracy:.1%}, both {report.both_accuracy:.1%}"
        )
        for (p, expected), (text, *_) in zip(predicted, LABELLED, strict=True):
            if (p.scenario, p.responsibility) != (expected["scenario"], expected["responsibility"]):
                print(f"  miss: {text!r}: {p.responsibility}/{p.scenario}, expected {expected}")
    assert report.scenario_accuracy >= SCENARIO_FLOOR
    assert report.responsibility_accuracy >= RESPONSIBILITY_FLOOR


def test_accuracy_on_tickets_the_keywords_were_never_tuned_on(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(HELDOUT) >= 60
    predicted = [(classify(text, facts), {"responsibility": r, "scenario": s}) for text, facts, r, s in HELDOUT]
    report = accuracy(predicted)
    with capsys.disabled():
        print(
            f"\nheld-out {report.total} tickets: scenario {report.scenario_accuracy:.1%}, "
            f"responsibility {report.responsibility_accuracy:.1%}, both {report.both_accuracy:.1%}"
        )
        for (p, expected), (text, *_) in zip(predicted, HELDOUT, strict=True):
            if (p.scenario, p.responsibility) != (expected["scenario"], expected["responsibility"]):
                print(f"  miss: {text!r}: {p.responsibility}/{p.scenario}, expected {expected}")
    assert report.scenario_accuracy >= HELDOUT_FLOOR
    assert report.responsibility_accuracy >= HELDOUT_FLOOR


def test_every_classification_is_well_formed() -> None:
    tax = taxonomy.load()
    for text, facts, _, _ in LABELLED:
        c = classify(text, facts)
        assert tax.has_scenario(c.scenario) and tax.has_responsibility(c.responsibility)
        assert c.tags and all(tax.has_tag(t) for t in c.tags) and len(set(c.tags)) == len(c.tags)
        assert tax.tag(c.tags[0]).scenario == c.scenario, (text, c)
        assert 0 <= c.confidence <= 1 and c.ticket_type in ("consultation", "complaint", "dispute")
        assert c.reasons, text


def test_classifying_is_fast() -> None:
    texts = [(text, facts) for text, facts, _, _ in LABELLED]
    warm_up()  # builds the keyword index and trains the model once
    started = time.perf_counter()
    for text, facts in texts:
        classify(text, facts)
    per_ticket = (time.perf_counter() - started) / len(texts)
    assert per_ticket < 0.005, f"{per_ticket * 1000:.2f} ms per ticket"


# --- order facts change the outcome ----------------------------------------------------------------
@pytest.mark.parametrize("text", ["我的快递到哪了", "where is my package?"])
def test_a_late_parcel_makes_where_is_it_a_logistics_complaint(text: str) -> None:
    late = classify(text, LATE)
    assert (late.responsibility, late.scenario, late.ticket_type) == (
        "logistics",
        "experience.late_delivery",
        "complaint",
    )
    assert any("late against its ETA" in r for r in late.reasons)
    on_time = classify(text, ON_TIME)
    assert (on_time.scenario, on_time.ticket_type) == ("consultation", "consultation")


def test_not_received_on_a_delivered_order_is_marked_delivered() -> None:
    c = classify("我还没收到货", DELIVERED)
    assert c.scenario == "experience.late_delivery" and c.tags[0] == "experience.late_delivery.marked_delivered"
    assert classify("我还没收到货", LATE).tags[0] == "experience.late_delivery.not_arrived"


@pytest.mark.parametrize(
    ("text", "scenario", "responsibility"),
    [
        ("收到的时候就坏了", "product.damage", "logistics"),
        ("用了一周就坏了", "product.defect", "merchant"),
        ("it arrived broken", "product.damage", "logistics"),
        ("it broke after a week of using it", "product.defect", "merchant"),
    ],
)
def test_broken_is_damage_on_arrival_and_a_defect_after_use(text: str, scenario: str, responsibility: str) -> None:
    c = classify(text, DELIVERED)
    assert (c.scenario, c.responsibility) == (scenario, responsibility)


def test_a_bare_broken_on_a_delivered_parcel_counts_as_damage_in_transit() -> None:
    assert classify("坏了", DELIVERED).scenario == "product.damage"
    assert classify("坏了", ON_TIME).scenario == "product.defect"


def test_pop_orders_put_platform_faults_on_the_merchant() -> None:
    text = "客服态度很差，一直不回复"
    assert classify(text, DELIVERED).responsibility == "platform"
    pop = classify(text, DELIVERED_POP)
    assert pop.responsibility == "merchant" and any("POP" in r for r in pop.reasons)
    assert classify("包裹丢了", replace(LATE_POP, days_late=4)).responsibility == "logistics"


def test_negation_cancels_a_keyword() -> None:
    c = classify("东西没坏，外包装也没有破损，就是少了一个配件", DELIVERED)
    assert c.scenario == "product.missing_item"
    assert classify("the item is not damaged, but the colour is wrong", DELIVERED).scenario == "product.wrong_item"


@pytest.mark.parametrize(
    "text", ["气死了，价格变化了也不通知", "易碎品，包装太简陋了", "I will not sue anyone, just fix it"]
)
def test_everyday_words_do_not_trigger_faults(text: str) -> None:
    c = classify(text, DELIVERED)
    assert not {"product.defect.spoiled", "product.damage.cold_chain", "product.damage.broken_in_transit"} & set(c.tags)
    assert not c.threatens_escalation


def test_a_question_next_to_a_fault_is_about_the_fault() -> None:
    c = classify("杯子收到就碎了，可以退吗？", DELIVERED)
    assert c.scenario == "product.damage" and c.ticket_type == "complaint"
    assert "consultation.return_policy" in c.tags


# --- threats and disputes -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "再不处理我就打12315投诉你们",
        "我要去消协，还要在微博上曝光你们",
        "我已经找了律师，准备起诉",
        "I will report you to the consumer association",
        "my lawyer will hear about this",
        "I'm going to the media with this",
        "I will sue you",
        "fine, I'll file a chargeback with my bank",
        "Refund me or I post this on twitter",
    ],
)
def test_threats_to_escalate_are_detected(text: str) -> None:
    c = classify(text, DELIVERED)
    assert c.threatens_escalation and c.ticket_type in ("complaint", "dispute")
    assert any("escalate" in r for r in c.reasons)


@pytest.mark.parametrize(
    "text",
    ["退款什么时候到账", "what is the issue with my order", "I will pursue a refund through your form", "满意"],
)
def test_ordinary_words_are_not_threats(text: str) -> None:
    assert not classify(text, DELIVERED).threatens_escalation


def test_disputes_between_buyer_and_merchant() -> None:
    c = classify("商家拒绝退款，协商不成，我要申请平台介入", DELIVERED_POP)
    assert c.ticket_type == "dispute" and c.responsibility == "merchant"
    assert classify("the seller refused my return, please step in", DELIVERED_POP).ticket_type == "dispute"


def test_unknown_text_is_left_for_an_agent() -> None:
    c = classify("你好", NONE)
    assert (c.scenario, c.tags, c.ticket_type) == ("other", ("other.unclassified",), "consultation")
    assert c.confidence <= 0.2
    assert classify("", NONE).scenario == "other"


def test_confidence_is_higher_for_clear_tickets() -> None:
    clear = classify("收到就碎了，外箱也压坏了，快递摔的", DELIVERED)
    vague = classify("有点问题", DELIVERED)
    assert clear.confidence > 0.7 > vague.confidence


# --- priority facts and accuracy reports --------------------------------------------------------
def test_priority_facts_speak_the_rules_vocabulary() -> None:
    facts = replace(BABY_POP, order_amount=Decimal("258.00"), customer_vip=True, complaints_30d=2)
    found = classify("奶粉结块，宝宝喝了拉肚子，我要投诉", facts)
    built = priority_facts(found, facts)
    assert rules_domain.validate_facts(built) == built
    assert built["ticket.scenario_group"] == "product" and built["product.category"] == "baby_maternal"
    assert built["customer.tier"] == "vip" and built["ticket.threatens_escalation"] is True
    assert built["order.merchant_kind"] == "pop"


def test_the_rules_vocabulary_matches_the_taxonomy() -> None:
    tax = taxonomy.load()
    assert set(rules_domain.SCENARIOS) == set(tax.scenario_ids)
    assert set(rules_domain.RESPONSIBILITIES) == set(tax.responsibility_ids)
    assert set(rules_domain.SCENARIO_GROUPS) == set(taxonomy.SCENARIO_GROUPS)


def test_accuracy_report_counts_each_axis() -> None:
    right = Classification("logistics", "product.damage", ("product.damage.crushed",), 0.9, "complaint", False)
    wrong_scenario = replace(right, scenario="product.defect")
    wrong_both = replace(right, responsibility="merchant", scenario="product.defect")
    report = accuracy(
        [
            (right, right),
            (wrong_scenario, right),
            (wrong_both, {"responsibility": "logistics", "scenario": "product.damage"}),
            (right, {"responsibility": "merchant", "scenario": "product.damage"}),
        ]
    )
    assert (report.total, report.responsibility_correct, report.scenario_correct, report.both_correct) == (4, 2, 2, 1)
    assert report.scenario_accuracy == 0.5 and report.both_accuracy == 0.25
    assert report.by_scenario == {"product.damage": (2, 4)}
    assert report.confusions == [("product.defect", "product.damage", 2)]
    assert accuracy([]).scenario_accuracy == 0.0


# --- the taxonomy file ----------------------------------------------------------------------------
def test_the_shipped_taxonomy() -> None:
    tax = taxonomy.load()
    assert len(tax.tags) >= 70
    assert set(tax.scenario_ids) == {
        "product.defect", "product.damage", "product.wrong_item", "product.missing_item", "service.attitude",
        "service.broken_promise", "experience.late_delivery", "experience.packaging", "consultation", "other",
    }  # fmt: skip
    assert set(tax.responsibility_ids) == {"merchant", "logistics", "platform", "customer"}
    for tag in tax.tags:
        assert tag.zh and tag.en and tag.id.startswith(tag.scenario + ".")
        assert tag.keywords_zh or tag.keywords_en or tag.id == "other.unclassified", tag.id
    assert tax.tag("product.defect.not_working").name("zh") == "无法使用"
    assert tax.scenario("product.damage").name("en") == "Damaged in transit"


def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(taxonomy.TAXONOMY_PATH.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["tags"].append(dict(d["tags"][0])), "'product.defect.not_working': the id is used twice"),
        (lambda d: d["tags"][0].update(scenario="product.broken"), "scenario 'product.broken' does not exist"),
        (lambda d: d["tags"][0].update(scenario="product.damage"), "the id must start with its scenario"),
        (lambda d: d["tags"][0].update(responsibility="courier"), "responsibility 'courier' does not exist"),
        (lambda d: d["tags"][0].pop("zh"), "tag 'product.defect.not_working': zh must be a name"),
        (lambda d: d["tags"][0]["keywords"]["en"].append(True), "keywords.en holds True"),
        (lambda d: d["tags"][0]["keywords"].update(fr=["cassé"]), "unknown languages fr"),
        (lambda d: d["scenarios"][0].update(group="goods"), "group 'goods' is not one of"),
        (lambda d: d["tags"][1].update(id="Product Defect"), "id 'Product Defect' must be dotted"),
    ],
)
def test_bad_taxonomy_entries_are_refused_with_the_tag_named(change: Any, message: str) -> None:
    data = _data()
    change(data)
    with pytest.raises(taxonomy.TaxonomyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        taxonomy.parse(data)


def test_admins_can_add_tags_past_two_hundred(tmp_path: Path) -> None:
    tax = taxonomy.load()
    extra = [
        {
            "id": f"product.defect.extra_{i}",
            "zh": f"新标签{i}",
            "en": f"Extra {i}",
            "scenario": "product.defect",
            "responsibility": "merchant",
            "keywords": {"zh": [f"特殊问题{i}号"], "en": [f"special issue {i}x"]},
        }
        for i in range(150)
    ]
    bigger = tax.with_tags(extra)
    assert len(bigger.tags) >= 200 and bigger.has_tag("product.defect.extra_149")
    c = classify("我遇到了特殊问题42号", DELIVERED, bigger)
    assert c.tags[0] == "product.defect.extra_42"
    with pytest.raises(taxonomy.TaxonomyError, match="already used"):
        bigger.with_tags([extra[0]])
    path = tmp_path / "taxonomy.yaml"
    path.write_text("tags: [\n", encoding="utf-8")
    with pytest.raises(taxonomy.TaxonomyError, match="not valid YAML"):
        taxonomy.read(path)
