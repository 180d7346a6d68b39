"""What a proactive notice says, in zh-CN and en: what happened, the new estimate, the next
checkpoint, and what the customer can do from the notice. Pure data and formatting.

Gartner (2022): a proactive notice without a clear next step creates contacts instead of avoiding
them, so every notice carries its answer.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aftersales.proactive.domain import Action, ExceptionReason, IncidentKind

LANGS = ("zh-CN", "en")

HEADLINES: dict[str, tuple[str, str]] = {
    IncidentKind.NOT_SHIPPED: ("订单 {order} 还未发货", "Your order {order} has not shipped yet"),
    IncidentKind.NOT_COLLECTED: (
        "订单 {order} 的包裹还未被快递揽收",
        "The carrier has not collected order {order} yet",
    ),
    IncidentKind.STALLED: ("订单 {order} 的物流暂时没有更新", "Order {order}: the parcel has not moved for a while"),
    IncidentKind.LATE_RISK: ("订单 {order} 可能晚于承诺时间送达", "Order {order} may arrive later than promised"),
    IncidentKind.CARRIER_EXCEPTION: ("订单 {order} 的配送遇到问题", "Order {order}: a problem with the delivery"),
    IncidentKind.OUT_OF_STOCK: ("订单 {order} 有商品缺货", "Order {order}: an item is out of stock"),
    IncidentKind.PICKUP_UNCOLLECTED: (
        "订单 {order} 的包裹在等您取件",
        "Order {order} is waiting for you to pick it up",
    ),
    IncidentKind.PRESUMED_LOST: ("订单 {order} 的包裹可能已丢失", "Order {order}: the parcel may be lost"),
}

WHAT: dict[str, tuple[str, str]] = {
    IncidentKind.NOT_SHIPPED: (
        "您的订单付款后还未发货，商家应在 {ship_by} 前发出，我们已在催促。",
        "Your order was paid but has not left yet; the merchant must ship it by {ship_by}, and we are on it.",
    ),
    IncidentKind.NOT_COLLECTED: (
        "面单已打印，但快递公司还没有揽收包裹，我们已联系商家和快递。",
        "The label is printed but the carrier has not collected the parcel; we have asked the merchant and carrier.",
    ),
    IncidentKind.STALLED: (
        "包裹自 {last_scan} 起没有新的物流记录，我们已向快递公司核实。",
        "The parcel has had no new scan since {last_scan}; we are checking with the carrier.",
    ),
    IncidentKind.LATE_RISK: (
        "按包裹目前的位置，可能晚于承诺的 {promised} 送达。",
        "From where the parcel is now, it may arrive after the promised {promised}.",
    ),
    IncidentKind.OUT_OF_STOCK: (
        "仓库拣货时发现有商品缺货。缺货商品的款项可退回，其余商品照常发出。",
        "The warehouse found an item out of stock while picking. That item can be refunded; the rest ships as usual.",
    ),
    IncidentKind.PICKUP_UNCOLLECTED: (
        "包裹已放在 {place}，请凭取件码尽快取件。",
        "The parcel is waiting at {place}; please pick it up with your pickup code.",
    ),
    IncidentKind.PRESUMED_LOST: (
        "包裹自 {last_scan} 起没有任何物流记录，可能已丢失。客服专员已接手，会为您补发或退款。",
        "The parcel has had no scan since {last_scan} and may be lost. A service specialist has taken it over and "
        "will resend or refund.",
    ),
}

REASONS: dict[str, tuple[str, str]] = {
    ExceptionReason.REFUSED: ("快递反馈包裹被拒收。", "The carrier reports the parcel was refused."),
    ExceptionReason.DAMAGED: (
        "快递反馈包裹破损。客服专员已接手，会为您补发或退款。",
        "The carrier reports the parcel is damaged. A service specialist has taken it over and will resend or refund.",
    ),
    ExceptionReason.BAD_ADDRESS: (
        "快递反馈收货地址有误，无法派送。",
        "The carrier reports it cannot deliver to the address given.",
    ),
    ExceptionReason.RETURNED: (
        "快递反馈包裹正在退回商家。客服专员已接手，会为您补发或退款。",
        "The carrier reports the parcel is going back to the merchant. A service specialist has taken it over and "
        "will resend or refund.",
    ),
    ExceptionReason.CUSTOMS_HOLD: (
        "包裹在海关查验中，清关后会继续派送。",
        "The parcel is held at customs and moves on once cleared.",
    ),
    ExceptionReason.FAILED_DELIVERY: (
        "快递员本次派送未成功，会再次派送。",
        "The courier could not deliver this time and will try again.",
    ),
}

CHECKPOINTS: dict[str, tuple[str, str]] = {
    "picked_up": ("快递揽收", "collected by the carrier"),
    "departed_hub": ("离开分拨中心", "leaves the sorting hub"),
    "arrived_hub": ("到达分拨中心", "arrives at the sorting hub"),
    "arrived_station": ("到达派送站点", "arrives at the delivery station"),
    "out_for_delivery": ("派送中", "out for delivery"),
    "delivered": ("签收", "delivered"),
}

LINES: dict[str, tuple[str, str]] = {
    "eta": (
        "预计送达：{eta}（按包裹当前位置估算）",
        "New estimated delivery: {eta} (our estimate from where it is now)",
    ),
    "next": ("下一站：{checkpoint}", "Next checkpoint: {checkpoint}"),
    "actions": ("在通知页可以一键：{actions}", "From this notice you can, in one tap: {actions}"),
    "quiet": ("无需回复，有新进展我们会再告诉您。", "No need to reply; we will tell you when anything changes."),
}

ACTIONS: dict[str, tuple[str, str]] = {
    Action.CHANGE_ADDRESS: ("修改地址", "change the address"),
    Action.CANCEL: ("取消订单并退款", "cancel and get a refund"),
    Action.URGE: ("催促发货/配送", "urge delivery"),
    Action.TALK_TO_PERSON: ("联系人工客服", "talk to a person"),
}


def _pick(texts: tuple[str, str], lang: str) -> str:
    return texts[0] if lang == "zh-CN" else texts[1]


def local_time(moment: datetime | None, zone: ZoneInfo, lang: str) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local:%m月%d日 %H:%M}" if lang == "zh-CN" else f"{local:%d %b %H:%M}"


def headline(kind: str, order: str, lang: str) -> str:
    return _pick(HEADLINES[kind], lang).format(order=order)


def what_happened(kind: str, detail: dict[str, str], facts: dict[str, str], lang: str) -> str:
    if kind == IncidentKind.CARRIER_EXCEPTION:
        return _pick(REASONS[detail.get("reason", ExceptionReason.FAILED_DELIVERY)], lang)
    return _pick(WHAT[kind], lang).format(**facts)


def checkpoint(node: str, lang: str) -> str:
    return _pick(CHECKPOINTS.get(node, CHECKPOINTS["delivered"]), lang)


def action_label(action: str, lang: str) -> str:
    return _pick(ACTIONS[action], lang)


def body(kind: str, detail: dict[str, str], facts: dict[str, str], eta: str, next_node: str,
         actions: tuple[Action, ...], lang: str) -> str:  # fmt: skip
    """The inbox and email text: what happened, the estimate, the next checkpoint, the actions."""
    sep = "，" if lang == "zh-CN" else ", "
    parts = [what_happened(kind, detail, facts, lang)]
    if eta:
        parts.append(_pick(LINES["eta"], lang).format(eta=eta))
    if next_node:
        parts.append(_pick(LINES["next"], lang).format(checkpoint=checkpoint(next_node, lang)))
    parts.append(_pick(LINES["actions"], lang).format(actions=sep.join(action_label(a, lang) for a in actions)))
    parts.append(_pick(LINES["quiet"], lang))
    return "\n".join(parts)
