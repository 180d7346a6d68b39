"""What every shop platform's mapper needs: reading amounts, times and fields of a payload, and the
shapes a payload becomes. Pure: no database, no network, no clock."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import ValidationError

from aftersales.kit.money import SUPPORTED_CURRENCIES, quantum
from aftersales.orders.schemas import OrderIn, OrderRefundIn


class MappingError(ValueError):
    """A payload that cannot become an order, naming the payload's field and what is wrong."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True, slots=True)
class MappedOrder:
    """A whole order, as the shop knows it now."""

    order: OrderIn


@dataclass(frozen=True, slots=True)
class MappedRefunds:
    """Refunds sent on their own (Shopify's refunds/create), for the order the shop knows by external_ref."""

    external_ref: str
    refunds: list[OrderRefundIn]


@dataclass(frozen=True, slots=True)
class OrderCallback:
    """A notice that carries only the order's id (BigCommerce's v3 webhooks): the order must be fetched."""

    external_ref: str
    order_id: str
    scope: str = ""


Mapped = MappedOrder | MappedRefunds | OrderCallback


@dataclass(frozen=True, slots=True)
class Context:
    """What a mapper is told besides the payload: whose orders they are, and the zone the
    platform's zone-less times are in (as its documentation says; the CLI and the integration may
    say otherwise, e.g. a WooCommerce site's own zone)."""

    merchant_code: str
    zone: tzinfo = UTC
    # Put before the shop's order numbers when several shops on one platform feed one platform here
    # (each Shopify store has its own #1001).
    number_prefix: str = ""


def load_json(raw: bytes | str) -> Any:
    """JSON with every number that has a fraction read as a Decimal, never a float."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise MappingError("body", f"not JSON ({exc})") from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def obj(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MappingError(name, f"expected an object, found {_kind(value)}")
    return value


def items(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(name, f"expected a list, found {_kind(value)}")
    return value


def need(data: Mapping[str, Any], key: str, prefix: str = "") -> Any:
    value = data.get(key)
    if value is None or value == "":
        raise MappingError(prefix + key, "missing")
    return value


def text(value: Any, name: str = "", limit: int = 400) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MappingError(name, f"expected text, found {_kind(value)}")
    printable = "".join(ch for ch in str(value) if ch.isprintable() or ch.isspace())  # no NUL, no controls
    return " ".join(printable.split())[:limit]


def ident(value: Any, name: str) -> str:
    """An id the platform gives (number or string), as text."""
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise MappingError(name, f"expected an id, found {_kind(value)}")
    found = str(value).strip()
    if len(found) > 64 or not found.isprintable():
        raise MappingError(name, f"{found[:70]!r} is not an id (at most 64 printable characters)")
    return found


def currency(value: Any, name: str) -> str:
    code = text(value, name).upper()
    if code not in SUPPORTED_CURRENCIES:
        raise MappingError(name, f"currency {code or '(none)'} is not one of {', '.join(sorted(SUPPORTED_CURRENCIES))}")
    return code


def amount(value: Any, name: str, code: str, *, default: Decimal | None = None) -> Decimal:
    """An amount the platform writes as a string ("12.30") or a JSON number (read as Decimal), in
    the order's currency, exact to its minor unit; anything finer is refused, never rounded."""
    if value is None or value == "":
        if default is not None:
            return default
        raise MappingError(name, "missing")
    if isinstance(value, bool | float):
        raise MappingError(name, f"expected an amount, found {_kind(value)}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MappingError(name, f"{value!r} is not an amount") from exc
    if not number.is_finite():
        raise MappingError(name, f"{value!r} is not an amount")
    unit = quantum(code)
    if number != number.quantize(unit):
        raise MappingError(name, f"{value} has more decimals than {code} has")
    return number.quantize(unit)


def quantity(value: Any, name: str) -> int:
    """A number of units: 2, "2" or 2.0000 (Magento) are 2; a fraction or less than 1 is refused."""
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, bool) and value is not None else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value() or number < 1:
        raise MappingError(name, f"expected a whole number of units, 1 or more, found {value!r}")
    return int(number)


def minor_units(value: Any, name: str, code: str) -> Decimal:
    """An amount given as a whole number of the currency's minor unit (cents; yen are their own
    unit): 1999 USD cents → 19.99, 1999 JPY → 1999."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not re.fullmatch(r"-?\d{1,15}", str(value)):
        raise MappingError(name, f"expected a whole number of minor units, found {value!r}")
    unit = quantum(code)
    return (Decimal(int(value)) * unit).quantize(unit)


def moment(value: Any, name: str, zone: tzinfo) -> datetime:
    """A time as platforms write it: ISO 8601 with or without an offset (zone-less: read in
    `zone`, the one the platform documents), RFC 2822 ("Tue, 05 Mar 2019 21:39:28 +0000") or
    Unix seconds. Returned in UTC."""
    if isinstance(value, bool) or value is None or value == "":
        raise MappingError(name, "missing")
    if isinstance(value, int):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise MappingError(name, f"{value} is not a time") from exc
    if not isinstance(value, str):
        raise MappingError(name, f"expected a time, found {_kind(value)}")
    raw = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        raise MappingError(name, f"{value!r} is not a time (ISO 8601, RFC 2822 or Unix seconds)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def maybe_moment(value: Any, name: str, zone: tzinfo) -> datetime | None:
    return None if value is None or value == "" else moment(value, name, zone)


_CODE_BAD = re.compile(r"[^A-Za-z0-9_.:\-]+")


def code(value: str, fallback: str) -> str:
    """An SKU, carrier or reference as our codes allow (letters, digits, _ . : -): other characters
    become "-". Empty → the fallback."""
    cleaned = _CODE_BAD.sub("-", value.strip()).strip("-.:_")[:64]
    return cleaned or fallback


def customer_id(platform: str, merchant: str, platform_id: Any, email: str, order_ref: str) -> str:
    """Our customer's external id: the platform's customer id within this merchant's store (stores
    number customers on their own); a guest by their email (hashed: it is not an id to show), else
    the order's own guest."""
    if platform_id not in (None, "", 0, "0"):
        raw = f"{platform}:{merchant}:{platform_id}"
    elif email:
        raw = f"{platform}:{merchant}:guest:{hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]}"
    else:
        raw = f"{platform}:{merchant}:order:{order_ref}"
    return code(raw, "guest")[:64]


def joined(data: Mapping[str, Any], *keys: str, limit: int = 400) -> str:
    """Several text fields of an address in one, skipping the empty ones."""
    return " ".join(t for t in (text(data.get(k)) for k in keys) if t)[:limit]


def phone(value: Any) -> str:
    kept = re.sub(r"[^0-9+\- ]", "", text(value))[:32]
    return kept.strip()


def build_order(data: dict[str, Any], platform_field: str = "order") -> MappedOrder:
    """Our order from the mapped fields; a refusal names our field within the platform's payload."""
    try:
        return MappedOrder(OrderIn.model_validate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or platform_field
        raise MappingError(f"{platform_field} → {where}", str(first["msg"]).removeprefix("Value error, ")) from exc


def build_refund(data: dict[str, Any], name: str) -> OrderRefundIn:
    try:
        return OrderRefundIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MappingError(f"{name} → {where}", str(first["msg"]).removeprefix("Value error, ")) from exc


def refunded_so_far(reference: str, refunded: Decimal, when: datetime) -> list[dict[str, Any]]:
    """A platform that gives only the total refunded: one refund that grows as the shop refunds more
    (dated by the order's last change, the only date there is)."""
    return [{"reference": reference, "amount": refunded, "refunded_at": when}] if refunded > 0 else []


def payment(reference: str, method: str, paid: Decimal, when: datetime) -> dict[str, Any]:
    return {
        "reference": code(reference, "payment"),
        "method": code(method, "unknown")[:24],
        "amount": paid,
        "paid_at": when,
    }


def check_total(stated: Decimal, computed: Decimal, name: str) -> None:
    """The platform's own total must be what its parts add up to, or the mapping has missed a part."""
    if stated != computed:
        raise MappingError(name, f"the order says {stated}, its lines, shipping, discount and tax add up to {computed}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", Decimal: "a number"}.get(
        type(value), type(value).__name__
    )
