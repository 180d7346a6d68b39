"""What every carrier format maps to: our logistics nodes, exception reasons, one scan and one
tracking; the scan's stable identity; reading a carrier's timestamps into UTC. Pure: no database."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


# Deliberately separate from orders' LogisticsNode: the integrations context's own words, with the same
# values (a unit test keeps them equal); the import hands them over by value through orders' service.
class Node(StrEnum):
    INFO_RECEIVED = "info_received"  # the carrier has the label data, not the parcel
    PICKED_UP = "picked_up"
    DEPARTED_HUB = "departed_hub"
    IN_TRANSIT = "in_transit"
    ARRIVED_HUB = "arrived_hub"
    ARRIVED_STATION = "arrived_station"  # last-mile station or pick-up point
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"  # on its way back to, or back with, the sender


class Reason(StrEnum):
    """Why a scan is an exception."""

    REFUSED = "refused"
    DAMAGED = "damaged"
    BAD_ADDRESS = "bad_address"
    FAILED_DELIVERY = "failed_delivery"
    CUSTOMS_HOLD = "customs_hold"
    LOST = "lost"
    OTHER = "other"  # delayed, held, or the carrier says no more


@dataclass(frozen=True, slots=True)
class Maps:
    """Where one code of a carrier's vocabulary lands: a node (with its reason when an exception),
    or nowhere (node None) for codes that are not a movement of the parcel ("no information yet")."""

    node: Node | None
    reason: Reason | None = None


SKIP = Maps(None)
EXC = Node.EXCEPTION


def exc(reason: Reason) -> Maps:
    return Maps(Node.EXCEPTION, reason)


class PayloadError(ValueError):
    """A payload this format cannot read, naming the field (a JSON path) and what is wrong with it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Scan:
    identity: str  # stable across replays and pushes: see scan_identity
    node: Node
    reason: Reason | None
    carrier_code: str  # the format's own code, kept as sent
    occurred_at: datetime  # UTC
    place: str
    description: str
    field: str  # where in the payload, for messages


@dataclass(frozen=True, slots=True)
class Tracking:
    tracking_number: str
    carrier: str  # the format's carrier name or code, a hint when a number is on several shipments
    scans: tuple[Scan, ...]
    field: str  # the path of the tracking number, for messages
    skipped: int = 0  # entries of the vocabulary that are not movements ("pending", "expired")


_SPACES = re.compile(r"\s+")


def scan_identity(tracking_number: str, code: str, occurred_at: datetime, place: str) -> str:
    """The same scan gets the same identity however often and through whichever push it arrives:
    (tracking number, carrier's code, the instant in UTC to the second, location without case or
    extra spaces). The carrier's own event ids are not used: they differ between pushes."""
    instant = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    location = _SPACES.sub(" ", place).strip().casefold()
    key = "\x1f".join((tracking_number.strip().upper(), code.strip(), instant, location))
    return "scan-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def make_scan(
    tracking_number: str,
    mapped: Maps,
    code: str,
    occurred_at: datetime,
    place: str,
    description: str,
    where: str,
) -> Scan:
    assert mapped.node is not None
    return Scan(
        identity=scan_identity(tracking_number, code, occurred_at, place),
        node=mapped.node,
        reason=mapped.reason,
        carrier_code=code[:64],
        occurred_at=occurred_at,
        place=place[:200],
        description=description[:1000],
        field=where,
    )


# --- reading payloads ---------------------------------------------------------------------------
def obj(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise PayloadError(where, f"expected an object, got {_kind(value)}")
    return value


def arr(value: object, where: str) -> Sequence[object]:
    if not isinstance(value, list):
        raise PayloadError(where, f"expected a list, got {_kind(value)}")
    return value


def text(container: Mapping[str, object], key: str, where: str, *, required: bool = True) -> str:
    value = container.get(key)
    if value is None or value == "":
        if required:
            raise PayloadError(f"{where}.{key}" if where else key, "missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{where}.{key}" if where else key, f"expected text, got {_kind(value)}")
    return str(value).strip()


def join(*parts: object) -> str:
    return ", ".join(str(p).strip() for p in parts if isinstance(p, str | int) and str(p).strip())


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def lookup(table: Mapping[str, Maps], code: str, where: str, vocabulary: str) -> Maps:
    mapped = table.get(code)
    if mapped is None:
        raise PayloadError(where, f"'{code}' is not a {vocabulary} we know; see docs/integrations-carriers.md")
    return mapped


# --- time ---------------------------------------------------------------------------------------
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Countries with one time zone, for carriers that send a scan's local time without its offset and
# document it as the time at the scan's place. Others (US, RU, BR, AU, ...) fall back to the format's default.
_COUNTRY_ZONE = {
    "CN": "Asia/Shanghai", "CHN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "HKG": "Asia/Hong_Kong",
    "MO": "Asia/Macau", "MAC": "Asia/Macau", "TW": "Asia/Taipei", "TWN": "Asia/Taipei", "JP": "Asia/Tokyo",
    "JPN": "Asia/Tokyo", "KR": "Asia/Seoul", "KOR": "Asia/Seoul", "SG": "Asia/Singapore", "SGP": "Asia/Singapore",
    "MY": "Asia/Kuala_Lumpur", "MYS": "Asia/Kuala_Lumpur", "TH": "Asia/Bangkok", "THA": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh", "VNM": "Asia/Ho_Chi_Minh", "PH": "Asia/Manila", "PHL": "Asia/Manila",
    "IN": "Asia/Kolkata", "IND": "Asia/Kolkata", "AE": "Asia/Dubai", "ARE": "Asia/Dubai", "GB": "Europe/London",
    "GBR": "Europe/London", "DE": "Europe/Berlin", "DEU": "Europe/Berlin", "FR": "Europe/Paris", "FRA": "Europe/Paris",
    "IT": "Europe/Rome", "ITA": "Europe/Rome", "ES": "Europe/Madrid", "ESP": "Europe/Madrid", "NL": "Europe/Amsterdam",
    "NLD": "Europe/Amsterdam", "BE": "Europe/Brussels", "BEL": "Europe/Brussels", "PL": "Europe/Warsaw",
    "POL": "Europe/Warsaw", "SE": "Europe/Stockholm", "SWE": "Europe/Stockholm", "CH": "Europe/Zurich",
    "CHE": "Europe/Zurich", "IE": "Europe/Dublin", "IRL": "Europe/Dublin",
}  # fmt: skip


def zone_of_country(code: str) -> ZoneInfo | None:
    name = _COUNTRY_ZONE.get(code.strip().upper())
    return ZoneInfo(name) if name else None


def instant(value: object, where: str, zone: ZoneInfo) -> datetime:
    """A carrier's timestamp as a UTC instant. An offset in the value is honoured; a value without one
    is read in `zone` (the zone the format documents); epoch numbers are seconds, or milliseconds when
    larger than 10^11; a date alone is midnight in `zone`."""
    if isinstance(value, bool) or value is None or value == "":
        raise PayloadError(where, "missing time" if value in (None, "") else "expected a time")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise PayloadError(where, f"{value} is not a time") from exc
    if not isinstance(value, str):
        raise PayloadError(where, "expected a time")
    raw = value.strip()
    if raw.isdigit():
        return instant(int(raw), where, zone)
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time(0))
        else:
            moment = datetime.fromisoformat(raw[:-1] + "Z" if raw.endswith("z") else raw)
    except ValueError as exc:
        raise PayloadError(where, f"'{raw}' is not a time we can read (ISO 8601 expected)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def zone_of_offset(value: str) -> ZoneInfo | None:
    """'GMT+8', 'UTC+08:00', '+8', '+0800' → a fixed zone; anything else → None."""
    match = re.fullmatch(r"(?:GMT|UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", value.strip(), re.IGNORECASE)
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes > 59:
        return None
    # Etc/GMT zones have inverted signs and whole hours only.
    if minutes:
        return None
    return ZoneInfo(f"Etc/GMT{'-' if sign == '+' else '+'}{hours}") if hours else ZoneInfo("UTC")
