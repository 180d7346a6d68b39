"""The words of every notification, in zh-CN and en. Pure data: no database, no I/O.

Each entry is (subject, body); both are `str.format` templates over the names that
`domain.compose` fills in: case, order, kind, amount, next_step. Keep a message short, say what
happened, and what the customer can do next.
"""

from __future__ import annotations

Text = tuple[str, str]

MESSAGES: dict[str, dict[str, Text]] = {
    # --- cases ---------------------------------------------------------------------------------
    "case.submitted": {
        "zh-CN": (
            "售后申请 {case} 已提交",
            "我们已收到您对订单 {order} 的{kind}申请（{case}），正在审核，结果会第一时间通知您。",
        ),
        "en": (
            "After-sales request {case} received",
            "We have received your {kind} request {case} for order {order} and are reviewing it. "
            "We will tell you as soon as it is decided.",
        ),
    },
    "case.evidence_requested": {
        "zh-CN": (
            "请为售后申请 {case} 补充凭证",
            "为了处理您的{kind}申请 {case}，我们需要更多凭证（例如商品照片、快递单号）。"
            "请在售后详情页补充上传，补充后会继续审核。",
        ),
        "en": (
            "Please add evidence to your request {case}",
            "To handle your {kind} request {case} we need more evidence (for example photos of the item "
            "or a tracking number). Please add it on the request's page; the review continues once it is there.",
        ),
    },
    "case.approved": {
        "zh-CN": (
            "售后申请 {case} 已通过",
            "您的{kind}申请 {case} 已审核通过，商家会尽快处理，完成后会再通知您。",
        ),
        "en": (
            "Your request {case} is approved",
            "Your {kind} request {case} is approved. The merchant will take care of it soon, and we will tell "
            "you when it is done.",
        ),
    },
    "case.approved_return": {
        "zh-CN": (
            "售后申请 {case} 已通过，请寄回商品",
            "您的{kind}申请 {case} 已审核通过。下一步：请在售后详情页预约上门取件，或自行寄回并填写快递单号。"
            "商家收到并检验商品后，会为您{next_step}。",
        ),
        "en": (
            "Request {case} approved: please send the item back",
            "Your {kind} request {case} is approved. Next step: book a pickup on the request's page, or send "
            "the item back yourself and enter the tracking number. Once the merchant has received and checked "
            "it, they will {next_step}.",
        ),
    },
    "case.approved_refund": {
        "zh-CN": (
            "售后申请 {case} 已通过，退款处理中",
            "您的{kind}申请 {case} 已审核通过，退款已发起，将原路退回您的支付账户，到账后会再通知您。{shipping_part}",
        ),
        "en": (
            "Request {case} approved: your refund is on its way",
            "Your {kind} request {case} is approved and the refund has been started. It goes back to your "
            "original payment method; we will tell you when it has arrived.{shipping_part}",
        ),
    },
    "case.received_refund": {
        "zh-CN": (
            "退回商品已验收，退款处理中（{case}）",
            "商家已收到并检验了您退回的商品（{case}），退款已发起，将原路退回您的支付账户，到账后会再通知您。{shipping_part}",
        ),
        "en": (
            "Return received: your refund for {case} is on its way",
            "The merchant has received and checked the item you sent back ({case}). The refund has been "
            "started and goes back to your original payment method; we will tell you when it has "
            "arrived.{shipping_part}",
        ),
    },
    "case.refund_retried": {
        "zh-CN": (
            "退款已重新发起（{case}）",
            "您的售后申请 {case} 的退款已重新发起，将原路退回您的支付账户，到账后会再通知您。{shipping_part}",
        ),
        "en": (
            "Your refund for {case} has been started again",
            "The refund of your request {case} has been started again. It goes back to your original payment "
            "method; we will tell you when it has arrived.{shipping_part}",
        ),
    },
    "case.replacement_shipped": {
        "zh-CN": (
            "换货商品已发出（{case}）",
            "您的换货申请 {case} 的新商品已发出，物流信息可在售后详情页查看。收到后请在详情页确认收货。",
        ),
        "en": (
            "Your replacement for {case} has shipped",
            "The replacement for your exchange request {case} is on its way; the tracking details are on the "
            "request's page. Please confirm receipt there once it arrives.",
        ),
    },
    "case.repair_shipped": {
        "zh-CN": (
            "维修完成，商品已寄回（{case}）",
            "您的维修申请 {case} 已维修完成，商品已寄回，物流信息可在售后详情页查看。收到后请在详情页确认收货。",
        ),
        "en": (
            "Repair done: your item for {case} is on its way back",
            "The repair of your request {case} is done and the item is on its way back to you; the tracking "
            "details are on the request's page. Please confirm receipt there once it arrives.",
        ),
    },
    "case.completed": {
        "zh-CN": (
            "售后申请 {case} 已完成",
            "您的{kind}申请 {case} 已处理完成。{next_step}感谢您的耐心。",
        ),
        "en": (
            "Your request {case} is complete",
            "Your {kind} request {case} is complete. {next_step}Thank you for your patience.",
        ),
    },
    "case.rejected": {
        "zh-CN": (
            "售后申请 {case} 未通过",
            "很抱歉，您的{kind}申请 {case} 未通过审核，原因见售后详情页。{platform_part}如有疑问，也可通过在线客服或"
            "“联系客服”页面告诉我们，客服人员会查看您的申请。",
        ),
        "en": (
            "Your request {case} was not approved",
            "We are sorry: your {kind} request {case} was not approved; the reason is on the request's page. "
            "{platform_part}For questions, you can also tell our customer service in the chat or on the Support "
            "page; a person will look at your request.",
        ),
    },
    "case.inspection_failed": {
        "zh-CN": (
            "退回商品未通过检验（{case}）",
            "很抱歉，您为售后申请 {case} 退回的商品未通过商家检验，检验说明和照片见售后详情页；"
            "商家会将商品寄还给您。"
            "如有异议，请通过在线客服或“联系客服”页面告诉我们，客服人员会查看您的申请。",
        ),
        "en": (
            "The item you returned for {case} did not pass inspection",
            "We are sorry: the item you sent back for request {case} did not pass the merchant's inspection; "
            "their notes and photos are on the request's page, and the merchant sends the item back to you. "
            "If you disagree, tell our customer service in the chat or on the Support page; a person will look "
            "at your request.",
        ),
    },
    "case.goods_returned": {
        "zh-CN": (
            "未通过检验的商品已寄还给您（{case}）",
            "售后申请 {case} 中未通过检验的商品已由商家寄还给您，快递单号见售后详情页。",
        ),
        "en": (
            "The item from {case} is on its way back to you",
            "The item that did not pass inspection for request {case} has been sent back to you by the merchant; "
            "the tracking number is on the request's page.",
        ),
    },
    # --- refunds -------------------------------------------------------------------------------
    "refund.succeeded": {
        "zh-CN": (
            "退款 {amount} 已原路退回",
            "您的退款 {amount}（订单 {order}{case_part}）已原路退回到您的支付账户。{shipping_part}"
            "具体到账时间以支付机构为准。",
        ),
        "en": (
            "Your refund of {amount} has been sent back",
            "Your refund of {amount} (order {order}{case_part}) has been sent back to your original payment method."
            "{shipping_part} Your bank or payment provider may take a little while to show it.",
        ),
    },
    "refund.failed": {
        "zh-CN": (
            "退款 {amount} 未能完成",
            "很抱歉，订单 {order}{case_part}的退款 {amount} 未能退回您的原支付账户。"
            "客服会尽快处理并重新发起退款，您无需操作；如有疑问，请联系客服。",
        ),
        "en": (
            "Your refund of {amount} did not go through",
            "We are sorry: the refund of {amount} for order {order}{case_part} could not be paid back to your "
            "original payment method. Customer service will start it again soon; you need not do anything. "
            "Contact us if you have questions.",
        ),
    },
    # --- orders --------------------------------------------------------------------------------
    "order.shipped": {
        "zh-CN": ("订单 {order} 已发货", "您的订单 {order} 已发货，可在订单详情页查看物流进度。"),
        "en": (
            "Order {order} has shipped",
            "Your order {order} is on its way. You can follow the delivery on the order's page.",
        ),
    },
    "order.delivered": {
        "zh-CN": (
            "订单 {order} 已送达",
            "您的订单 {order} 已送达。如商品有任何问题，可在订单详情页一键申请售后。",
        ),
        "en": (
            "Order {order} has been delivered",
            "Your order {order} has been delivered. If anything is wrong with it, you can start an after-sales "
            "request from the order's page.",
        ),
    },
    "order.cancelled": {
        "zh-CN": ("订单 {order} 已取消", "您的订单 {order} 已取消。如已付款，款项将原路退回您的支付账户。"),
        "en": (
            "Order {order} has been cancelled",
            "Your order {order} has been cancelled. Anything you paid goes back to your original payment method.",
        ),
    },
}

# The kinds of after-sales case, as the customer calls them.
KINDS: dict[str, dict[str, str]] = {
    "refund_only": {"zh-CN": "仅退款", "en": "refund"},
    "return_refund": {"zh-CN": "退货退款", "en": "return and refund"},
    "exchange": {"zh-CN": "换货", "en": "exchange"},
    "repair": {"zh-CN": "维修", "en": "repair"},
    "price_protection": {"zh-CN": "价格保护", "en": "price protection"},
    "compensation": {"zh-CN": "赔付", "en": "compensation"},
    "invoice": {"zh-CN": "补开发票", "en": "invoice"},
}

# What happens once a returned item has passed inspection (fills {next_step} of approved_return).
AFTER_RETURN: dict[str, dict[str, str]] = {
    "return_refund": {"zh-CN": "退款", "en": "refund you"},
    "exchange": {"zh-CN": "换新并寄出", "en": "send you a replacement"},
    "repair": {"zh-CN": "维修并寄回", "en": "repair it and send it back"},
}

# Same table shape as AFTER_RETURN on purpose: each fills a different {next_step} with its own words.
# The outcome a completed case leaves behind (fills {next_step} of completed; may be empty).
COMPLETED_OUTCOME: dict[str, dict[str, str]] = {
    "invoice": {
        "zh-CN": "发票已开具，可在售后详情页查看。",
        "en": "Your invoice has been issued; see the request's page. ",
    },
    # No compensation entry: a compensation ends with refund.settled (there is no coupon step).
    "exchange": {"zh-CN": "您已确认收到换货商品。", "en": "You have confirmed receipt of the replacement. "},
    "repair": {"zh-CN": "您已确认收到维修后的商品。", "en": "You have confirmed receipt of the repaired item. "},
}

# The words wrapped around a message when it is sent as an email.
EMAIL_FRAME: dict[str, dict[str, str]] = {
    "zh-CN": {
        "greeting": "{name}，您好：",
        "greeting_anonymous": "您好：",
        "details": "查看详情：{url}",
        "footer": "此邮件由售后服务平台自动发送，请勿直接回复。",
    },
    "en": {
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "details": "Details: {url}",
        "footer": "This email was sent automatically by the after-sales service; please do not reply to it.",
    },
}

# Case and order references inside refund messages.
CASE_PART: dict[str, str] = {"zh-CN": "，售后申请 {case}", "en": ", request {case}"}
# Said when a refund is above the goods' price because it carries the lines' shipping share.
SHIPPING_PART: dict[str, str] = {
    "zh-CN": "退款 {amount} 中含商品分摊的运费 {share}。",
    "en": " The refund of {amount} includes {share}, the items' share of the order's shipping fee.",
}

# Said on a refusal: the buyer may ask the platform to step in, within the disputes' window.
PLATFORM_PART: dict[str, str] = {
    "zh-CN": "如不认可，可在被拒后 {window}内到售后详情页点击“请平台介入”，由平台核实证据后裁决。",
    "en": "If you disagree, you can choose “Ask the platform to step in” on the request's page within {window} "
    "of this refusal; the platform will look at the evidence and rule. ",
}
WINDOW_DAYS: dict[str, str] = {"zh-CN": "{n} 天", "en": "{n} days"}
WINDOW_HOURS: dict[str, str] = {"zh-CN": "{n} 小时", "en": "{n} hours"}

# Messages for staff (the staff inbox), by template: (subject, body) over the names that
# domain.compose_staff fills in: ticket, metric.
STAFF_MESSAGES: dict[str, dict[str, Text]] = {
    "staff.sla_breached": {
        "zh-CN": (
            "工单 {ticket} 已超出{metric}时限",
            "工单 {ticket} 的{metric}时限已过。系统已按规则升级（首次超时时提高优先级，并在有上一级时转给上一级）。"
            "请打开工单跟进。",
        ),
        "en": (
            "Ticket {ticket} breached its {metric} deadline",
            "The {metric} deadline of ticket {ticket} has passed. It was escalated by the rules (on its first "
            "breach the priority goes up a step and it moves to the next tier, where there is one). "
            "Open the ticket to take it from here.",
        ),
    },
}

STAFF_MESSAGES["staff.refund_failed"] = {
    "zh-CN": (
        "售后单 {case} 的退款失败，待重新发起",
        "售后单 {case} 的退款被支付渠道退回，客户已收到“客服会重新发起退款”的通知。请打开售后单核对后点击“重新退款”。",
    ),
    "en": (
        "The refund of case {case} failed and waits for a retry",
        "The payment provider declined the refund of case {case}; the customer was told that customer "
        'service will start it again. Open the case, check it and choose "Retry the refund".',
    ),
}

# SLA metrics as staff call them.
METRICS: dict[str, dict[str, str]] = {
    "first_response": {"zh-CN": "首次响应", "en": "first response"},
    "resolution": {"zh-CN": "解决", "en": "resolution"},
}

# The platform's disputes, told to the buyer (the dispute page has the reasons and each deadline).
MESSAGES["dispute.ruled"] = {
    "zh-CN": (
        "平台已对纠纷 {dispute} 作出裁决",
        "您就售后申请 {case} 申请的平台介入（纠纷 {dispute}）已有裁决。裁决结果、理由和所依据的凭证请在纠纷页面查看。",
    ),
    "en": (
        "The platform has ruled on dispute {dispute}",
        "The platform has ruled on dispute {dispute} about your request {case}. The outcome, its reasons and "
        "the evidence it rests on are on the dispute's page.",
    ),
}
MESSAGES["dispute.enforced"] = {
    "zh-CN": (
        "纠纷 {dispute} 的裁决已执行",
        "平台已按裁决执行纠纷 {dispute}（售后申请 {case}），详情请在纠纷页面查看。",
    ),
    "en": (
        "The ruling on dispute {dispute} has been carried out",
        "The platform has carried out the ruling on dispute {dispute} (request {case}). The details are on the "
        "dispute's page.",
    ),
}
MESSAGES["dispute.settled"] = {
    "zh-CN": ("纠纷 {dispute} 已和解", "纠纷 {dispute}（售后申请 {case}）已按双方的约定和解结束。"),
    "en": (
        "Dispute {dispute} is settled",
        "Dispute {dispute} (request {case}) ended with the settlement both sides agreed.",
    ),
}
MESSAGES["dispute.appeal_decided"] = {
    "zh-CN": ("纠纷 {dispute} 的申诉已有结果", "商家对纠纷 {dispute} 的申诉已有结果，详情请在纠纷页面查看。"),
    "en": (
        "The appeal on dispute {dispute} has been decided",
        "The merchant's appeal on dispute {dispute} has been decided; the details are on the dispute's page.",
    ),
}

# A merchant's staff hear of the platform's ruling and of their appeal's decision.
STAFF_MESSAGES["staff.dispute_ruled"] = {
    "zh-CN": (
        "平台已对纠纷 {dispute} 作出裁决",
        "平台已对纠纷 {dispute} 作出裁决。裁决结果和理由请在纠纷页面查看，如有异议可在期限内申诉。",
    ),
    "en": (
        "The platform has ruled on dispute {dispute}",
        "The platform has ruled on dispute {dispute}. The outcome and its reasons are on the dispute's page; "
        "you may appeal within the time shown there.",
    ),
}
STAFF_MESSAGES["staff.dispute_appeal_decided"] = {
    "zh-CN": ("纠纷 {dispute} 的申诉已有结果", "您对纠纷 {dispute} 的申诉已有结果，详情请在纠纷页面查看。"),
    "en": (
        "Your appeal on dispute {dispute} has been decided",
        "Your appeal on dispute {dispute} has been decided; the details are on the dispute's page.",
    ),
}

# A satisfaction survey after a ticket is solved (the link opens it without a password for 7 days).
MESSAGES["survey.invite"] = {
    "zh-CN": (
        "您对本次服务满意吗？",
        "您的问题（{ref}）已处理完毕。请花一分钟就解决结果、响应速度和服务态度为我们打分（1–5 分）；"
        "链接 7 天内有效，无需登录。",
    ),
    "en": (
        "How did we do?",
        "Your request {ref} has been dealt with. Please take a minute to rate the result, our speed and "
        "our attitude (1 to 5); the link works for 7 days without signing in.",
    ),
}

STAFF_MESSAGES["staff.csat_low_case"] = {
    "zh-CN": (
        "售后单 {case} 收到低分评价",
        "客户对售后单 {case} 的满意度调查给出了 2 分或更低的评分。请在“客户满意度”页面查看评分和原因，并尽快回访客户。",
    ),
    "en": (
        "Case {case} was rated low",
        "The customer rated case {case} 2 or lower in the satisfaction survey. See the scores and reasons on "
        "the Customer satisfaction page, and call the customer back soon.",
    ),
}

STAFF_MESSAGES["staff.csat_low"] = {
    "zh-CN": (
        "工单 {ticket} 收到低分评价",
        "客户对工单 {ticket} 的满意度调查给出了 2 分或更低的评分。请打开工单查看评分和原因，并尽快回访客户。",
    ),
    "en": (
        "Ticket {ticket} was rated low",
        "The customer rated ticket {ticket} 2 or lower in the satisfaction survey. Open the ticket to see "
        "the scores and reasons, and call the customer back soon.",
    ),
}
