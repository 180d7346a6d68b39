"""Reading a customer's email (RFC 5322) for the ticket desk: who wrote, about what, the new text
without the quoted history, the threading keys and the attachments.

Pure: bytes in, a ParsedEmail out; no database, no clock. Chinese mail needs care the standard
library does not take: GB2312 is declared for text that is really GBK (a superset), and some
mailers put raw 8-bit bytes in headers, so every charset is read through a forgiving decoder.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html import unescape
from html.parser import HTMLParser
from pathlib import PurePosixPath, PureWindowsPath

MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # the gateway refuses larger mail with 552
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_BODY_CHARS = 20_000  # as much as a ticket message takes from any channel
MAX_ID_LENGTH = 255  # TicketMessage.email_message_id
# The body text is read up to here for the quoted-history cut (the new text comes first and is kept
# up to MAX_BODY_CHARS): 25 MB of text lines took seconds to walk, 100,000 characters take milliseconds.
MAX_SCANNED_CHARS = 100_000
MAX_HTML_CHARS = 1_000_000  # an HTML body is read up to here (its text is cut at MAX_BODY_CHARS anyway)

# Declared charsets that lie: GB2312 and GBK mail often carries GBK/GB18030 characters (堃, 喆, 镕).
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030"}
_FALLBACKS = ("utf-8", "gb18030", "big5", "latin-1")


# Small frozen dataclasses like other modules' on purpose: what one parsed mail holds.
@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """An attachment we did not keep, and why (told to the agents in a note)."""

    filename: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    from_name: str
    from_address: str
    subject: str  # as written, decoded
    ticket_subject: str  # without Re:/回复:/Fwd: prefixes and our [TK…] tag
    message_id: str  # "<…>", or "" when the mail has none
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str  # the new text: quoted history and signature removed
    full_text: str
    attachments: tuple[Attachment, ...] = ()
    refused: tuple[Refused, ...] = ()
    auto_reply: str = ""  # why this looks machine-sent ("" for a person's mail)
    ticket_hint: str = ""  # a ticket number in the subject ("[TK…]"), the threading fallback
    # More than one address in From (or several From headers): nobody in particular wrote it, so the
    # mail joins no ticket and is matched to no customer; replies go to the first address.
    from_ambiguous: bool = False
    recipients: tuple[str, ...] = ()  # To and Cc addresses: who else takes part in the conversation
    authentication: dict[str, str] = field(default_factory=dict)  # see authentication_results

    @property
    def thread_keys(self) -> list[str]:
        """Message-IDs this mail answers, most likely first: In-Reply-To, then References newest first."""
        keys = [*self.in_reply_to, *reversed(self.references)]
        return list(dict.fromkeys(k for k in keys if k))[:50]


# --- charsets and headers ----------------------------------------------------------------------------
def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in the declared charset (read generously), else the usual suspects, never an error."""
    names = []
    if charset:
        name = charset.strip().strip('"').lower()
        names.append(_CHARSET_ALIASES.get(name, name))
    for name in [*names, *_FALLBACKS]:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")  # pragma: no cover - latin-1 decodes anything


def decode_header_value(value: str) -> str:
    """RFC 2047 encoded words in any charset, and raw 8-bit header bytes (UTF-8 or GBK)."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_bytes(value.encode("ascii", "surrogateescape"), None)
    try:
        chunks = decode_header(value)
    except Exception:  # a malformed encoded word: keep the text as it came
        return _one_line(value)
    words = []
    for chunk, charset in chunks:
        words.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return _one_line("".join(words))


def _one_line(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _raw_header(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


_MSG_ID = re.compile(r"<[^<>\s]+>")


def message_ids(header: str) -> tuple[str, ...]:
    """The <ids> in a Message-ID / In-Reply-To / References header, in order, stored form."""
    found = _MSG_ID.findall(header or "")
    if not found and header.strip() and " " not in header.strip():
        found = [f"<{header.strip().strip('<>')}>"]  # some mailers forget the brackets
    return tuple(dict.fromkeys(storable_id(m) for m in found))


def storable_id(message_id: str) -> str:
    """An id that fits the column: an over-long one is replaced by its digest, the same every time."""
    if len(message_id) <= MAX_ID_LENGTH:
        return message_id
    return f"<long.{hashlib.sha256(message_id.encode()).hexdigest()}@mail-in.invalid>"


def raw_digest_id(raw: bytes) -> str:
    """The idempotency key of a mail without a Message-ID: the same bytes twice are one mail."""
    return f"<digest.{hashlib.sha256(raw).hexdigest()}@mail-in.invalid>"


# Bounded separators: "re" followed by thousands of spaces and no colon took seconds with \s* on
# both sides of the optional counter.
_PREFIX = re.compile(
    r"^\s*(?:re|fw|fwd|aw|wg|sv|vs|回复|回覆|答复|答覆|转发|轉寄)\s{0,3}(?:(?:\[\d{1,4}\]|\(\d{1,4}\))\s{0,3})?[:：]\s*",
    re.I,
)
TICKET_TAG = re.compile(r"\[\s*(TK\d{12,18})\s*\]", re.I)


def ticket_subject(subject: str) -> str:
    """The subject a ticket keeps: reply/forward prefixes (in any number) and our tag removed."""
    text = TICKET_TAG.sub(" ", subject)
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return _one_line(text)


def ticket_hint(subject: str) -> str:
    match = TICKET_TAG.search(subject)
    return match.group(1).upper() if match else ""


# --- who wrote, who else reads -----------------------------------------------------------------------
MAX_ADDRESSES = 50  # To and Cc addresses kept per mail


def _address(found: Address) -> str:
    """The address as stored ("user@domain", lower case), or "" when it is not one we can answer: no
    domain, or a local part that needs quoting (it could hold another address: "a@b"@c)."""
    user, domain = found.username.strip(), found.domain.strip()
    if not user or not domain or any(c in user for c in '@"<>()[]\\,;: \t') or "@" in domain:
        return ""
    return f"{user}@{domain}".lower()[:254]


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) of each address in every `name` header, parsed from the raw header by
    the standard library's header registry: an encoded word (RFC 2047) is only ever a display name,
    never an address, whatever it decodes to."""
    found: list[tuple[str, str]] = []
    try:
        headers = msg.get_all(name) or []
        for header in headers:
            for item in getattr(header, "addresses", ()):
                found.append((str(item.display_name), _address(item)))
    except Exception:  # a header the parser cannot read names nobody
        return []
    return found


def _display_name(name: str) -> str:
    if any("\udc80" <= ch <= "\udcff" for ch in name):  # raw 8-bit bytes (UTF-8 or GBK)
        name = decode_bytes(name.encode("utf-8", "surrogateescape"), None)
    return _one_line(name).strip('"')[:120]


def sender(msg: Message) -> tuple[str, str, bool]:
    """(display name, address, ambiguous) of the From header(s). Ambiguous: not exactly one address."""
    found = _addresses(msg, "From")
    if not found:
        return "", "", False
    name, address = found[0]
    # The library decodes a display name in its declared charset only; a GBK name labelled GB2312
    # needs our forgiving decoder. Its reading is taken only when it names the same address.
    forgiving = getaddresses([decode_header_value(_raw_header(msg, "From"))])
    if len(forgiving) == 1 and forgiving[0][1].strip().lower() == address:
        name = forgiving[0][0]
    return _display_name(name), address, len(found) != 1


def recipients(msg: Message) -> tuple[str, ...]:
    addresses = [a for name in ("To", "Cc") for _, a in _addresses(msg, name) if a]
    return tuple(dict.fromkeys(addresses))[:MAX_ADDRESSES]


# --- Authentication-Results (RFC 8601) -------------------------------------------------------------------
AUTH_METHODS = ("spf", "dkim", "dmarc")
_AUTH_RESULTS = frozenset(
    {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy", "hardfail"}
)
MAX_AUTH_HEADER = 4000


def _without_comments(text: str) -> str:
    """The header without (comments), nested or not; quoted strings kept as they are."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
            if not depth:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if not depth:
                out.append(char)
        elif quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def authentication_results(msg: Message) -> dict[str, str]:
    """What the receiving MTA found: {"authserv_id", "spf", "dkim", "dmarc"} (only those present).

    Only the topmost Authentication-Results header is read: the MTA in front of the gateway adds its
    own on top; any lower one came with the mail and is the sender's say-so. One passing DKIM
    signature is enough for "pass" (a mail may carry several)."""
    raw = _raw_header(msg, "Authentication-Results")
    if not raw.strip():
        return {}
    parts = _without_comments(raw[:MAX_AUTH_HEADER]).split(";")
    head = parts[0].split()
    found = {"authserv_id": head[0][:100]} if head else {}
    for part in parts[1:]:
        words = " ".join(part.split()).replace(" =", "=").replace("= ", "=").split(" ")
        method, _, result = words[0].partition("=")
        method, result = method.split("/")[0].lower(), result.lower()
        if method not in AUTH_METHODS or result not in _AUTH_RESULTS:
            continue
        if method not in found or (method == "dkim" and result == "pass"):
            found[method] = result
    return found if any(method in found for method in AUTH_METHODS) else {}


# --- machine-sent mail ---------------------------------------------------------------------------------
def auto_reply_reason(msg: Message, from_address: str) -> str:
    """Why a mail is machine-sent (RFC 3834 and common practice), or "" for a person's mail.
    Answering such mail (or opening tickets from it) is how mail loops start."""
    auto_submitted = _raw_header(msg, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoresponder"):
        value = _raw_header(msg, name).strip().lower()
        if value and value not in ("no", "false", "0"):
            return f"{name}: {value}"
    precedence = _raw_header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "auto_reply", "junk", "list"):
        return f"Precedence: {precedence}"
    if msg.get_content_type() == "multipart/report":
        return "a delivery report (bounce)"
    local = from_address.split("@", 1)[0]
    if local in ("mailer-daemon", "postmaster"):
        return f"sent by {local}"
    return ""


# --- bodies ----------------------------------------------------------------------------------------------
class _HtmlText(HTMLParser):
    """HTML to plain text, simply: block elements become line breaks; scripts, styles and quoted
    history (blockquote, Gmail/Outlook quote containers) are dropped."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr"})
    SKIP = frozenset({"script", "style", "head", "title", "blockquote"})
    QUOTE_CLASSES = (
        "gmail_quote",
        "yahoo_quoted",
        "moz-cite-prefix",
        "divrplyfwdmsg",
        "qmail_quote",
        "ntes-mailmaster-quote",
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marker = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        if self._skip or tag in self.SKIP or any(q in marker for q in self.QUOTE_CLASSES):
            if tag not in ("br", "hr", "img", "meta", "link", "input"):  # void elements never close
                self._skip.append(tag)
            return
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"[ \t\r\n\xa0]+", " ", data))


def _close_or_escape_brackets(html: str) -> str:
    """Each "<" with no ">" before the next "<" becomes "&lt;": it opens no tag. The parser looks for
    the end of an unclosed tag up to the end of the text, once per "<", which made a mail of
    thousands of stray "<" take seconds; with every "<" closed before the next one it reads the text
    once."""
    head, *pieces = html.split("<")
    return head + "".join(("<" if ">" in piece else "&lt;") + piece for piece in pieces)


def html_to_text(html: str) -> str:
    html = _close_or_escape_brackets(html[:MAX_HTML_CHARS])
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # broken markup: strip the tags crudely rather than lose the mail
        return unescape(re.sub(r"<[^<>]*>", " ", html)).strip()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else str(part.get_payload()).encode("utf-8", "surrogateescape")
    return decode_bytes(data, part.get_content_charset())


def body_text(msg: EmailMessage) -> str:
    """The text of the mail: text/plain preferred, else the HTML made plain."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


# Where quoted history begins: the line that introduces it, in the forms common mailers write.
_QUOTE_HEADERS = [
    re.compile(r"^-{2,}\s*(?:original message|原始邮件|原始郵件|forwarded message|转发的邮件)\s*-{2,}\s*$", re.I),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above its From:/Sent: block
    re.compile(r"^在\s*.{4,200}(?:写道|寫道)\s*[:：]\s*$"),  # Gmail / QQ in Chinese
    re.compile(r"^.{0,120}\d.{0,120}(?:写道|寫道)\s*[:：]\s*$"),  # Apple Mail: "2026年11月2日 10:00，李娜 <…> 写道："
    re.compile(r"^On\s.{4,300}\swrote\s*:\s*$", re.I),
    re.compile(r"^Le\s.{4,300}\sa écrit\s*:\s*$", re.I),
]
# A header block of a quoted mail: its first line, then one of the next lines confirms it.
_BLOCK_START = re.compile(r"^\*?(?:from|发件人|發件人)\s*\*?\s*[:：]", re.I)
_BLOCK_NEXT = re.compile(
    r"^\*?(?:sent|date|to|subject|cc|发送时间|发件时间|日期|时间|收件人|主题|抄送|寄件日期|主旨)\s*\*?\s*[:：]", re.I
)


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the first quoted-history marker, drop "> " lines and the
    signature ("-- "). If nothing is left (a bare forward), the whole text is kept."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == "--" and line.rstrip(" ") == "--":  # RFC 3676 signature separator "-- "
            break
        # Every quote header ends in one of these: the cheap test first, the patterns only then.
        if stripped.endswith((":", "：", "-", "_")) and any(p.match(stripped) for p in _QUOTE_HEADERS):
            break
        # "On Mon, 2 Nov 2026 at 10:00, Ann Lee <ann@example.com>\nwrote:" (wrapped by the mailer)
        if (
            re.match(r"^On\s.{4,300}$", stripped)
            and index + 1 < len(lines)
            and re.match(r"^.{0,200}wrote\s*:\s*$", lines[index + 1].strip(), re.I)
        ):
            break
        if _BLOCK_START.match(stripped) and any(_BLOCK_NEXT.match(n.strip()) for n in lines[index + 1 : index + 4]):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    new = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", new) if new else text.strip()


# --- attachments -----------------------------------------------------------------------------------------
_EXECUTABLE_MAGIC = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xfe\xed\xfa\xce", "a macOS program"),
    (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
    (b"#!", "a script"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "a Windows shortcut"),
)
# Served back to agents' browsers: types a browser would run are stored as plain downloads.
_ACTIVE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript", "application/javascript", "text/xml"}
)
_SAFE_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,60}/[a-z0-9][a-z0-9!#$&^_.+-]{0,60}$")


def executable_kind(data: bytes) -> str:
    """What program the bytes are, by their first bytes (never by the file name), or ""."""
    head = data[:16]
    for magic, kind in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            return kind
    return ""


def safe_filename(name: str | None, index: int) -> str:
    """A file name without folders or control characters, at most 200 characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name if name else ""
    base = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", base).strip(" .")
    if not base:
        return f"attachment-{index}"
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) < 20 else base[:200]
    return base


def safe_content_type(declared: str) -> str:
    value = (declared or "").lower()
    if not _SAFE_TYPE.match(value) or value in _ACTIVE_TYPES:
        return "application/octet-stream"
    return value


def attachments_of(msg: EmailMessage) -> tuple[list[Attachment], list[Refused]]:
    kept: list[Attachment] = []
    refused: list[Refused] = []
    for index, part in enumerate(msg.iter_attachments(), start=1):
        if part.is_multipart():
            continue
        name = safe_filename(_decoded_filename(part), index)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_content_type() == "message/rfc822":
            data = data or part.as_bytes()
        if len(data) > MAX_ATTACHMENT_BYTES:
            refused.append(Refused(name, "larger than 10 MB"))
        elif kind := executable_kind(data):
            refused.append(Refused(name, f"{kind}: executables are not accepted"))
        elif len(kept) >= MAX_ATTACHMENTS:
            refused.append(Refused(name, f"more than {MAX_ATTACHMENTS} attachments"))
        elif data:
            kept.append(Attachment(name, safe_content_type(part.get_content_type()), data))
    return kept, refused


def _decoded_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # a malformed RFC 2231 parameter
        return None
    return decode_header_value(name) if name else None


# --- the whole mail ---------------------------------------------------------------------------------------
def parse_email(raw: bytes) -> ParsedEmail:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)  # policy.default builds EmailMessage objects
    from_name, from_address, ambiguous = sender(msg)
    subject = decode_header_value(_raw_header(msg, "Subject"))
    try:
        full_text = body_text(msg)[:MAX_SCANNED_CHARS]
        attachments, refused = attachments_of(msg)
    except Exception:  # a structure the library cannot walk: keep what the raw text says
        full_text, attachments, refused = decode_bytes(raw.partition(b"\n\n")[2], None).strip(), [], []
    text = strip_quoted(full_text)
    return ParsedEmail(
        from_name=from_name,
        from_address=from_address,
        subject=subject,
        ticket_subject=ticket_subject(subject)[:200],
        message_id=next(iter(message_ids(decode_header_value(_raw_header(msg, "Message-ID")))), ""),
        in_reply_to=message_ids(decode_header_value(_raw_header(msg, "In-Reply-To"))),
        references=message_ids(decode_header_value(_raw_header(msg, "References"))),
        text=_cap(text),
        full_text=_cap(full_text),
        attachments=tuple(attachments),
        refused=tuple(refused),
        auto_reply=auto_reply_reason(msg, from_address),
        ticket_hint=ticket_hint(subject),
        from_ambiguous=ambiguous,
        recipients=recipients(msg),
        authentication=authentication_results(msg),
    )


def _cap(text: str) -> str:
    return text if len(text) <= MAX_BODY_CHARS else text[: MAX_BODY_CHARS - 1] + "…"
