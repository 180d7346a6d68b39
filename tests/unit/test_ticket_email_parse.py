"""Reading customers' emails: Chinese charsets as they really come (GB2312 labels on GBK text, raw
8-bit headers), subjects without reply prefixes, the new text without quoted history (zh and en
mailers), threading keys, machine-sent mail and attachment checks. Pure: no database, no server."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from aftersales.tickets.email import parse as mailparse
from aftersales.tickets.email.parse import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    parse_email,
    raw_digest_id,
    strip_quoted,
    ticket_subject,
)


def b64(text: str, charset: str) -> str:
    return base64.b64encode(text.encode(charset)).decode()


def mail(
    body: str = "你好",
    *,
    subject: str = "退货",
    sender: str = "李娜 <li.na@example.com>",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@shop.example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<m1@example.com>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


# --- charsets --------------------------------------------------------------------------------------------
def test_a_gb2312_label_on_gbk_text_is_read_as_gbk() -> None:
    # 堃 and 喆 are in GBK but not in GB2312: Chinese mailers label such text gb2312 all the same.
    subject = "退货申请 王堃喆"
    raw = (
        f"From: =?gb2312?B?{b64('王堃', 'gbk')}?= <wang@example.com>\r\n"
        f"Subject: =?gb2312?B?{b64(subject, 'gbk')}?=\r\n"
        "Message-ID: <gb@example.com>\r\n"
        "Content-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{b64('杯子碎了，订单 SO261102000123', 'gbk')}\r\n"
    ).encode()
    parsed = parse_email(raw)
    assert parsed.subject == subject
    assert (parsed.from_name, parsed.from_address) == ("王堃", "wang@example.com")
    assert parsed.text == "杯子碎了，订单 SO261102000123"


def test_gbk_and_utf8_encoded_words_and_a_mixed_subject() -> None:
    raw = (
        f"From: =?GBK?Q?=C0=EE=C4=C8?= <li@example.com>\r\n"
        f"Subject: =?gbk?B?{b64('发票', 'gbk')}?= =?utf-8?B?{b64('补开', 'utf-8')}?= please\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "hi\r\n"
    ).encode()
    parsed = parse_email(raw)
    assert parsed.from_name == "李娜"
    assert parsed.subject == "发票补开 please"


def test_raw_eight_bit_headers_in_utf8_or_gbk() -> None:
    utf8 = b"From: \xe6\x9d\x8e\xe5\xa8\x9c <li@example.com>\r\nSubject: " + "快递丢件".encode() + b"\r\n\r\nbody\r\n"
    gbk = b"From: x@example.com\r\nSubject: " + "快递丢件".encode("gbk") + b"\r\n\r\nbody\r\n"
    assert parse_email(utf8).subject == "快递丢件"
    assert parse_email(utf8).from_name == "李娜"
    assert parse_email(gbk).subject == "快递丢件"


# --- subjects -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        ("Re: 退货", "退货"),
        ("回复: 退货", "退货"),
        ("回复：答复：Re: RE[2]: Fwd: 退货", "退货"),
        ("转发: Fw: damaged cup", "damaged cup"),
        ("Re: 退货 [TK261102000001]", "退货"),
        ("Regarding my order", "Regarding my order"),  # "Re" only as a prefix with its colon
    ],
)
def test_reply_and_forward_prefixes_are_stripped(subject: str, kept: str) -> None:
    assert ticket_subject(subject) == kept


def test_the_ticket_number_in_the_subject_is_a_threading_hint() -> None:
    parsed = parse_email(mail(subject="Re: 退货 [TK261102000001]").as_bytes())
    assert parsed.ticket_hint == "TK261102000001"
    assert parsed.ticket_subject == "退货"
    assert parse_email(mail(subject="退货 TK261102000001").as_bytes()).ticket_hint == ""


# --- quoted history --------------------------------------------------------------------------------------
ZH_CASES = {
    "qq": '还是没收到退款\n\n------------------ 原始邮件 ------------------\n发件人: "售后" <s@shop.example.com>\n'
    '发送时间: 2026年11月2日(星期一) 上午10:00\n收件人: "李娜"\n主题: 回复: 退款\n\n已为您处理',
    "outlook_zh": "还是没收到退款\n\n发件人: 售后 <s@shop.example.com>\n发送时间: 2026年11月2日 10:00\n"
    "收件人: 李娜 <li@example.com>\n主题: 退款\n\n已为您处理",
    "gmail_zh": "还是没收到退款\n\n在 2026年11月2日周一 10:00，售后 <s@shop.example.com> 写道：\n\n> 已为您处理\n",
    "apple_zh": "还是没收到退款\n\n2026年11月2日 上午10:00，售后 <s@shop.example.com> 写道：\n\n> 已为您处理",
    "netease": "还是没收到退款\n\n-----原始邮件-----\n发件人：售后\n已为您处理",
}
EN_CASES = {
    "gmail": "Still no refund.\n\nOn Mon, Nov 2, 2026 at 10:00 AM Shop <s@shop.example.com> wrote:\n> We refunded",
    "wrapped": "Still no refund.\n\nOn Mon, Nov 2, 2026 at 10:00 AM Shop Service Team <service@shop.example.com>\n"
    "wrote:\n> We refunded",
    "outlook": "Still no refund.\n\n________________________________\nFrom: Shop <s@shop.example.com>\n"
    "Sent: Monday, November 2, 2026 10:00\nTo: Ann\nSubject: Refund\n\nWe refunded",
    "outlook_plain": "Still no refund.\n\nFrom: Shop <s@shop.example.com>\nSent: Monday, 2 Nov 2026\n\nWe refunded",
    "original": "Still no refund.\n\n-----Original Message-----\nFrom: Shop\nWe refunded",
}


@pytest.mark.parametrize("name", sorted(ZH_CASES))
def test_chinese_quoted_history_is_cut(name: str) -> None:
    assert strip_quoted(ZH_CASES[name]) == "还是没收到退款"


@pytest.mark.parametrize("name", sorted(EN_CASES))
def test_english_quoted_history_is_cut(name: str) -> None:
    assert strip_quoted(EN_CASES[name]) == "Still no refund."


def test_inline_quotes_and_the_signature_go_the_answers_stay() -> None:
    text = "> Which colour?\nRed, please.\n> Size?\nM\n\n-- \nAnn Lee\nACME Ltd"
    assert strip_quoted(text) == "Red, please.\nM"


def test_a_line_that_merely_mentions_from_stays() -> None:
    text = "From: the box it came in, the cup was broken.\nPlease refund."
    assert strip_quoted(text) == text


def test_a_bare_forward_keeps_the_forwarded_text() -> None:
    text = "-----Original Message-----\nFrom: courier\n包裹已签收"
    assert strip_quoted(text) == text


def test_html_only_mail_becomes_text_without_the_quote() -> None:
    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["Subject"] = "Refund"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Still&nbsp;no <b>refund</b>.</p>"
        "<div>Order SO261102000123</div><div class='gmail_quote'><p>On Mon … wrote:</p>"
        "<blockquote>We refunded</blockquote></div><script>alert(1)</script></body></html>",
        subtype="html",
    )
    parsed = parse_email(msg.as_bytes())
    assert parsed.text == "Still no refund.\n\nOrder SO261102000123"


def test_plain_text_is_preferred_over_html() -> None:
    msg = mail("plain words")
    msg.add_alternative("<p>html words</p>", subtype="html")
    assert parse_email(msg.as_bytes()).text == "plain words"


# --- threading keys ----------------------------------------------------------------------------------------
def test_threading_keys_in_reply_to_first_then_references_newest_first() -> None:
    msg = mail(
        headers={
            "In-Reply-To": "<reply.2@shop.example.com>",
            "References": "<c1@example.com> <reply.1@shop.example.com> <reply.2@shop.example.com>",
        }
    )
    parsed = parse_email(msg.as_bytes(policy=SMTP))
    assert parsed.message_id == "<m1@example.com>"
    assert parsed.in_reply_to == ("<reply.2@shop.example.com>",)
    assert parsed.thread_keys == ["<reply.2@shop.example.com>", "<reply.1@shop.example.com>", "<c1@example.com>"]


def test_a_mail_without_message_id_is_keyed_by_its_bytes() -> None:
    msg = mail()
    del msg["Message-ID"]
    raw = msg.as_bytes()
    assert parse_email(raw).message_id == ""
    assert raw_digest_id(raw) == raw_digest_id(bytes(raw))
    assert raw_digest_id(raw) != raw_digest_id(raw + b"x")
    assert len(raw_digest_id(raw)) <= 255


def test_an_over_long_message_id_is_stored_as_its_digest_the_same_every_time() -> None:
    long_id = "<" + "a" * 300 + "@example.com>"
    parsed = parse_email(mail(headers={"In-Reply-To": long_id}).as_bytes())
    assert parsed.in_reply_to == (mailparse.storable_id(long_id),)
    assert len(parsed.in_reply_to[0]) <= 255 and parsed.in_reply_to[0] == mailparse.storable_id(long_id)


def test_ids_without_brackets_are_still_found() -> None:
    assert mailparse.message_ids("abc@example.com") == ("<abc@example.com>",)
    assert mailparse.message_ids("") == ()


# --- machine-sent mail ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "machine"),
    [
        ({"Auto-Submitted": "auto-replied"}, True),
        ({"Auto-Submitted": "auto-generated"}, True),
        ({"Auto-Submitted": "no"}, False),
        ({"X-Autoreply": "yes"}, True),
        ({"X-Autorespond": "Out of office"}, True),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "auto_reply"}, True),
        ({"Precedence": "first-class"}, False),
        ({}, False),
    ],
)
def test_machine_sent_mail_is_recognised(headers: dict[str, str], machine: bool) -> None:
    assert bool(parse_email(mail(headers=headers).as_bytes()).auto_reply) is machine


def test_bounces_are_machine_sent() -> None:
    assert parse_email(mail(sender="MAILER-DAEMON@mx.example.com").as_bytes()).auto_reply
    report = EmailMessage()
    report["From"] = "postoffice@example.com"
    report["Subject"] = "Undeliverable"
    report.set_content("could not deliver")
    report.make_mixed()
    report.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"')
    raw = report.as_bytes()
    assert "bounce" in parse_email(raw).auto_reply


# --- attachments -----------------------------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 64


def test_attachments_are_kept_with_a_safe_name_and_executables_refused_by_content() -> None:
    msg = mail("see attached")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="../../etc/破损.png")
    msg.add_attachment(EXE, maintype="image", subtype="jpeg", filename="photo.jpg")  # a program in disguise
    msg.add_attachment(b"#!/bin/sh\nrm -rf /\n", maintype="text", subtype="plain", filename="notes.txt")
    msg.add_attachment(b"<svg onload=alert(1)>", maintype="image", subtype="svg+xml", filename="a.svg")
    parsed = parse_email(msg.as_bytes())
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("破损.png", "image/png", PNG),
        ("a.svg", "application/octet-stream", b"<svg onload=alert(1)>"),
    ]
    assert [(r.filename, r.reason.split(":")[0]) for r in parsed.refused] == [
        ("photo.jpg", "a Windows program"),
        ("notes.txt", "a script"),
    ]
    assert parsed.text == "see attached"


def test_attachment_caps_size_and_count() -> None:
    msg = mail("many files")
    msg.add_attachment(b"x" * (MAX_ATTACHMENT_BYTES + 1), maintype="application", subtype="pdf", filename="big.pdf")
    for i in range(MAX_ATTACHMENTS + 1):
        msg.add_attachment(b"%PDF-1.4 " + bytes([i]), maintype="application", subtype="pdf", filename=f"{i}.pdf")
    parsed = parse_email(msg.as_bytes())
    assert len(parsed.attachments) == MAX_ATTACHMENTS
    assert [(r.filename, r.reason) for r in parsed.refused] == [
        ("big.pdf", "larger than 10 MB"),
        ("10.pdf", f"more than {MAX_ATTACHMENTS} attachments"),
    ]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("C:\\Users\\ann\\photo.jpg", "photo.jpg"),
        ("../../secret", "secret"),
        ("a\x00b.txt", "a_b.txt"),
        ("", "attachment-3"),
        (None, "attachment-3"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_safe_filenames(name: str | None, safe: str) -> None:
    assert mailparse.safe_filename(name, 3) == safe


def test_a_broken_mail_still_gives_text() -> None:
    raw = b"From: ann@example.com\r\nSubject: hi\r\nContent-Type: multipart/mixed\r\n\r\njust text, no boundary\r\n"
    parsed = parse_email(raw)
    assert parsed.from_address == "ann@example.com"
    assert "just text" in parsed.full_text or parsed.full_text == ""


# --- who sent it ------------------------------------------------------------------------------------------
def _from(header: str, extra: str = "") -> bytes:
    return f"From: {header}\r\n{extra}Subject: x\r\nMessage-ID: <id@x>\r\n\r\nhello\r\n".encode()


@pytest.mark.parametrize(
    "header",
    [
        f"=?utf-8?b?{b64('li.na@example.com', 'utf-8')}?= <eve@evil.example>",
        f"=?utf-8?b?{b64('李娜 <li.na@example.com>', 'utf-8')}?= <eve@evil.example>",
        "=?utf-8?q?li.na=40example.com?= <eve@evil.example>",
        f"=?gbk?b?{b64('li.na@example.com,', 'gbk')}?= <eve@evil.example>",
    ],
)
def test_an_encoded_word_is_only_ever_a_display_name(header: str) -> None:
    parsed = parse_email(_from(header))
    assert parsed.from_address == "eve@evil.example"
    assert not parsed.from_ambiguous


@pytest.mark.parametrize(
    "header",
    [
        f"=?utf-8?b?{b64('li.na@example.com', 'utf-8')}?=",  # an encoded word where the address should be
        '"li.na@example.com"@evil.example',  # a quoted local part holding an address
        "li.na",
        "<>",
    ],
)
def test_no_address_is_read_out_of_what_is_not_one(header: str) -> None:
    assert parse_email(_from(header)).from_address == ""


def test_several_senders_are_ambiguous() -> None:
    for raw in (
        _from("li.na@example.com, eve@evil.example"),
        _from("eve@evil.example", extra="From: li.na@example.com\r\n"),
        _from("Friends: eve@evil.example, li.na@example.com;"),
    ):
        parsed = parse_email(raw)
        assert parsed.from_ambiguous and parsed.from_address in ("eve@evil.example", "li.na@example.com")


def test_to_and_cc_addresses_are_the_recipients() -> None:
    parsed = parse_email(
        _from("a@x.example", extra="To: Service <service@shop.example.com>\r\nCc: B@Y.example, c@z\r\n")
    )
    assert parsed.recipients == ("service@shop.example.com", "b@y.example", "c@z")


# --- Authentication-Results (RFC 8601) --------------------------------------------------------------------
def test_the_topmost_authentication_results_are_read() -> None:
    extra = (
        "Authentication-Results: mx.shop.example.com;\r\n"
        "  spf=softfail (domain of x does not designate 1.2.3.4) smtp.mailfrom=example.com;\r\n"
        "  dkim=fail (bad signature) header.d=example.com; dkim = pass header.d=mailer.example;\r\n"
        '  dmarc=pass (p=none dis=none; "quoted ; text") header.from=example.com\r\n'
        "Authentication-Results: forged.example; spf=pass; dmarc=pass\r\n"
    )
    found = parse_email(_from("a@example.com", extra=extra)).authentication
    assert found == {"authserv_id": "mx.shop.example.com", "spf": "softfail", "dkim": "pass", "dmarc": "pass"}


@pytest.mark.parametrize(
    "value",
    ["", "mx.shop.example.com; none", "mx.shop.example.com 1; arc=pass", "mx; spf=maybe", "(" * 5000 + ";dmarc=fail"],
)
def test_authentication_results_without_a_known_verdict_are_nothing(value: str) -> None:
    extra = f"Authentication-Results: {value}\r\n" if value else ""
    assert parse_email(_from("a@example.com", extra=extra)).authentication == {}
