"""The demo shop's merchants, categories and products (data, not code paths)."""

from __future__ import annotations

CATEGORIES = [
    ("home_appliances", "家用电器", "Home appliances"),
    ("baby_maternal", "母婴", "Baby and maternal"),
    ("fresh_food", "生鲜", "Fresh food"),
    ("apparel", "服饰", "Apparel"),
    ("electronics", "数码电子", "Electronics"),
    ("books", "图书", "Books"),
]

# code, name, kind
MERCHANTS = [
    ("selfop", "云仓自营旗舰店", "self_operated"),
    ("pop-mama", "贝贝母婴专营店", "pop"),
    ("pop-style", "Urban Style 服饰", "pop"),
]
# Where each demo merchant's returns go (shown to the customer once a return is approved).
RETURN_ADDRESSES = {
    "selfop": "上海市浦东新区张江路 88 号 云仓退货组 200120 (021-5080 0000)",
    "pop-mama": "浙江省杭州市余杭区文一西路 969 号 贝贝母婴退货部 311121 (0571-8800 1234)",
    "pop-style": "广东省广州市海珠区新港东路 1000 号 Urban Style 售后 510308 (020-8900 5678)",
}

# merchant, category, product name, brand, [(sku code, spec, price)]
# Demo data: rows alike on purpose, one a product.
PRODUCTS = [
    ("selfop", "home_appliances", "美的变频空调", "Midea", [("MD-AC15", "1.5匹 白色", "2899.00")]),
    ("selfop", "home_appliances", "海尔滚筒洗衣机", "Haier", [("HR-WM10", "10kg 银色", "2599.00")]),
    ("selfop", "home_appliances", "小米空气净化器 4", "Xiaomi", [("MI-AP4", "标准版", "899.00")]),
    ("selfop", "home_appliances", "苏泊尔电饭煲", "Supor", [("SP-RC4", "4L", "329.00")]),
    (
        "selfop",
        "electronics",
        "华为 FreeBuds 无线耳机",
        "Huawei",
        [("HW-FB5-W", "白色", "999.00"), ("HW-FB5-B", "黑色", "999.00")],
    ),
    (
        "selfop",
        "electronics",
        "Apple iPad Air 11英寸",
        "Apple",
        [("AP-IPA11-128", "128GB", "4799.00"), ("AP-IPA11-256", "256GB", "5599.00")],
    ),
    ("selfop", "electronics", "Anker 65W 氮化镓充电器", "Anker", [("AK-65W", "白色", "199.00")]),
    ("selfop", "electronics", "罗技 MX Master 3S 鼠标", "Logitech", [("LG-MX3S", "石墨黑", "749.00")]),
    ("selfop", "fresh_food", "智利车厘子 JJ级", "鲜果园", [("FR-CHERRY-25", "2.5kg 礼盒", "268.00")]),
    ("selfop", "fresh_food", "阳澄湖大闸蟹 8只装", "蟹皇", [("FR-CRAB-8", "公4.0两 母3.0两", "398.00")]),
    ("selfop", "fresh_food", "新西兰牛排 套餐", "Silver Fern", [("FR-STEAK-1", "1kg", "189.00")]),
    ("selfop", "books", "《三体》全集", "重庆出版社", [("BK-3BODY", "平装三册", "93.00")]),
    ("selfop", "books", "Designing Data-Intensive Applications", "O'Reilly", [("BK-DDIA", "paperback", "139.00")]),
    ("selfop", "books", "《活着》余华", "作家出版社", [("BK-HUOZHE", "平装", "35.00")]),
    ("pop-mama", "baby_maternal", "飞鹤星飞帆 婴儿奶粉 3段", "飞鹤", [("FH-XFF3", "700g", "258.00")]),
    ("pop-mama", "baby_maternal", "帮宝适 一级帮 纸尿裤", "Pampers", [("PP-L-52", "L码 52片", "149.00")]),
    ("pop-mama", "baby_maternal", "好孩子 婴儿推车 轻便折叠", "gb", [("GB-STR1", "灰色", "1299.00")]),
    ("pop-mama", "baby_maternal", "贝亲 宽口径玻璃奶瓶", "Pigeon", [("PG-BOT240", "240ml", "109.00")]),
    (
        "pop-style",
        "apparel",
        "纯棉圆领T恤",
        "Urban Style",
        [("US-TEE-M", "M 白色", "79.00"), ("US-TEE-L", "L 白色", "79.00"), ("US-TEE-XL", "XL 黑色", "79.00")],
    ),
    (
        "pop-style",
        "apparel",
        "羽绒服 90%白鸭绒",
        "Urban Style",
        [("US-DOWN-M", "M 黑色", "699.00"), ("US-DOWN-L", "L 藏青", "699.00")],
    ),
    (
        "pop-style",
        "apparel",
        "Slim-fit jeans",
        "Urban Style",
        [("US-JEAN-30", "W30", "259.00"), ("US-JEAN-32", "W32", "259.00")],
    ),
    ("pop-style", "apparel", "定制刺绣卫衣", "Urban Style", [("US-CUSTOM-HOOD", "定制", "329.00")]),
]

CARRIERS = ["SF", "JD", "ZTO", "YTO", "STO"]
PAY_METHODS = ["alipay", "wechat_pay", "unionpay", "card"]

# The self-operated shop's own riders deliver in the city of its warehouse; elsewhere a carrier does.
RIDER_CITY = "上海"
CITIES = [
    ("上海市 浦东新区", "上海"),
    ("北京市 朝阳区", "北京"),
    ("广东省 深圳市 南山区", "深圳"),
    ("浙江省 杭州市 西湖区", "杭州"),
    ("四川省 成都市 武侯区", "成都"),
    ("湖北省 武汉市 洪山区", "武汉"),
    ("江苏省 南京市 鼓楼区", "南京"),
    ("陕西省 西安市 雁塔区", "西安"),
    ("广东省 广州市 天河区", "广州"),
]
# Carriers write their scans in the language of the order's customer (the demo's English customers read
# English scans): the cities and hubs in English.
CITIES_EN = {
    "上海": "Shanghai",
    "北京": "Beijing",
    "深圳": "Shenzhen",
    "杭州": "Hangzhou",
    "成都": "Chengdu",
    "武汉": "Wuhan",
    "南京": "Nanjing",
    "西安": "Xi'an",
    "广州": "Guangzhou",
}
HUBS_EN = {
    "上海转运中心": "Shanghai sorting hub",
    "北京顺义转运中心": "Beijing Shunyi sorting hub",
    "深圳华南转运中心": "Shenzhen South China sorting hub",
    "杭州萧山转运中心": "Hangzhou Xiaoshan sorting hub",
    "成都双流转运中心": "Chengdu Shuangliu sorting hub",
    "武汉转运中心": "Wuhan sorting hub",
    "南京转运中心": "Nanjing sorting hub",
    "西安转运中心": "Xi'an sorting hub",
    "广州白云转运中心": "Guangzhou Baiyun sorting hub",
}
HUBS = {
    "上海": "上海转运中心",
    "北京": "北京顺义转运中心",
    "深圳": "深圳华南转运中心",
    "杭州": "杭州萧山转运中心",
    "成都": "成都双流转运中心",
    "武汉": "武汉转运中心",
    "南京": "南京转运中心",
    "西安": "西安转运中心",
    "广州": "广州白云转运中心",
}

# How an English-speaking customer names the goods in what she writes (the shop's product names are Chinese).
PRODUCT_EN = {
    "美的变频空调": "Midea inverter air conditioner",
    "海尔滚筒洗衣机": "Haier front-loading washing machine",
    "小米空气净化器 4": "Xiaomi Air Purifier 4",
    "苏泊尔电饭煲": "Supor rice cooker",
    "华为 FreeBuds 无线耳机": "Huawei FreeBuds earbuds",
    "Apple iPad Air 11英寸": "Apple iPad Air 11-inch",
    "Anker 65W 氮化镓充电器": "Anker 65W GaN charger",
    "罗技 MX Master 3S 鼠标": "Logitech MX Master 3S mouse",
    "智利车厘子 JJ级": "Chilean cherries (JJ grade)",
    "阳澄湖大闸蟹 8只装": "Yangcheng Lake hairy crabs (8)",
    "新西兰牛排 套餐": "New Zealand steak set",
    "《三体》全集": "The Three-Body Problem trilogy",
    "《活着》余华": "To Live by Yu Hua",
    "飞鹤星飞帆 婴儿奶粉 3段": "Feihe Astrobaby infant formula, stage 3",
    "帮宝适 一级帮 纸尿裤": "Pampers premium diapers",
    "好孩子 婴儿推车 轻便折叠": "gb lightweight folding stroller",
    "贝亲 宽口径玻璃奶瓶": "Pigeon wide-neck glass baby bottle",
    "纯棉圆领T恤": "cotton crew-neck T-shirt",
    "羽绒服 90%白鸭绒": "down jacket",
    "定制刺绣卫衣": "custom embroidered hoodie",
}


def product_in_english(name: str) -> str:
    return PRODUCT_EN.get(name, name)


def scan_places(city: str, hub_origin: str, hub_dest: str, *, english: bool) -> list[str]:
    """Where each scan of a parcel happened, as the carrier writes it for the order's customer:
    picked up, left the origin hub, reached the destination hub, the station, out for delivery, signed."""
    if english:
        town = CITIES_EN[city]
        return [
            "Picked up at the warehouse",
            HUBS_EN[hub_origin],
            HUBS_EN[hub_dest],
            f"{town} delivery station",
            f"{town} delivery station, courier on the way",
            "Signed for by the recipient",
        ]
    return ["仓库揽收", hub_origin, hub_dest, f"{city}营业部", f"{city}营业部 快递员派送中", "本人签收"]
