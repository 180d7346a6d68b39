"""The platform's delivery promise: when a paid order is due, by who ships it and where it goes.

One table, read by whoever states it: the help center's article on delivery times (through
`facts()`), and the demo shop's order system, which stamps each shipment's promised time with
it. A pure rule: kit only, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class DeliveryPromise:
    # Self-operated goods in these cities: paid before the cut-off, delivered the same day;
    # after it, the next day (by `day_ends`, local time).
    cutoff: time
    day_ends: time
    same_day_cities: tuple[str, ...]
    # Self-operated goods elsewhere, and in remote regions: days after payment, (usual, at most).
    elsewhere_days: tuple[int, int]
    remote_regions: tuple[str, ...]
    remote_days: tuple[int, int]
    # Marketplace (POP) merchants ship within this many hours of payment, then the carrier's days.
    marketplace_ship_hours: int
    marketplace_days: tuple[int, int]

    def same_day_city(self, region: str) -> str | None:
        return next((city for city in self.same_day_cities if city in region), None)

    def promised_at(self, self_operated: bool, region: str, paid_at: datetime, zone: ZoneInfo) -> datetime:
        """The latest moment the order is due, in UTC terms of `paid_at`'s instant."""
        paid = paid_at.astimezone(zone)
        if not self_operated:
            shipped = paid + timedelta(hours=self.marketplace_ship_hours)
            return self._end_of(shipped.date() + timedelta(days=self.marketplace_days[1]), zone)
        if any(place in region for place in self.remote_regions):
            return self._end_of(paid.date() + timedelta(days=self.remote_days[1]), zone)
        if self.same_day_city(region):
            days = 0 if paid.time() < self.cutoff else 1
            return self._end_of(paid.date() + timedelta(days=days), zone)
        return self._end_of(paid.date() + timedelta(days=self.elsewhere_days[1]), zone)

    def _end_of(self, day: date, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, self.day_ends, tzinfo=zone)

    def facts(self) -> dict[str, tuple[str, str]]:
        """What the help center may quote, `delivery.<name>` → (zh, en)."""
        return {
            "delivery.cutoff": (self.cutoff.strftime("%H:%M"),) * 2,
            "delivery.same_day_cities": (
                "、".join(self.same_day_cities),
                ", ".join(_en(c) for c in self.same_day_cities),
            ),
            "delivery.elsewhere_days": (_days(self.elsewhere_days, "zh"), _days(self.elsewhere_days, "en")),
            "delivery.remote_days": (_days(self.remote_days, "zh"), _days(self.remote_days, "en")),
            "delivery.remote_regions": ("、".join(self.remote_regions), ", ".join(_en(r) for r in self.remote_regions)),
            "delivery.marketplace_ship_hours": (
                f"{self.marketplace_ship_hours} 小时",
                f"{self.marketplace_ship_hours} hours",
            ),
            "delivery.marketplace_days": (_days(self.marketplace_days, "zh"), _days(self.marketplace_days, "en")),
        }


# The places' English names, for the English article.
_PLACES_EN = {
    "上海": "Shanghai",
    "北京": "Beijing",
    "广州": "Guangzhou",
    "深圳": "Shenzhen",
    "杭州": "Hangzhou",
    "南京": "Nanjing",
    "武汉": "Wuhan",
    "成都": "Chengdu",
    "西安": "Xi'an",
    "新疆": "Xinjiang",
    "西藏": "Tibet",
    "青海": "Qinghai",
    "内蒙古": "Inner Mongolia",
    "宁夏": "Ningxia",
}


def _en(place: str) -> str:
    return _PLACES_EN.get(place, place)


def _days(span: tuple[int, int], lang: str) -> str:
    low, high = span
    return f"{low}–{high} 天" if lang == "zh" else f"{low}–{high} days"


PROMISE = DeliveryPromise(
    cutoff=time(11, 0),
    day_ends=time(22, 0),
    same_day_cities=("上海", "北京", "广州", "深圳", "杭州", "南京", "武汉", "成都", "西安"),
    elsewhere_days=(2, 4),
    remote_regions=("新疆", "西藏", "青海", "内蒙古", "宁夏"),
    remote_days=(3, 7),
    marketplace_ship_hours=48,
    marketplace_days=(2, 5),
)


def delivery_facts(_db: object) -> dict[str, tuple[str, str]]:
    """The promise as the help center quotes it (`{{delivery.cutoff}}`, …); re-exported by the
    orders service, which the wiring registers with the knowledge context."""
    return PROMISE.facts()


def promised_delivery(self_operated: bool, region: str, paid_at: datetime, zone: ZoneInfo) -> datetime:
    """When a paid order is due under the platform's promise (the order system stamps it)."""
    return PROMISE.promised_at(self_operated, region, paid_at, zone)
