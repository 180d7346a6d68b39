"""Pure forecasting: contacts from orders, the shape of a day, and how good a forecast was.

contacts(d) = Σₖ orders(d−k)·rₖ·(1 + uplift): an order brings contacts on its own day and the
two weeks after (where is it, it arrived broken, the refund). The lag rates rₖ are fitted by
non-negative least squares on past days; until there is enough history, a fallback of 0.08
contacts per order, spread over the days after the order, stands in. See docs/peak.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

LAGS = 14  # days 0..13 after the order
# Fitting needs this many days with both orders and contacts (the research asks for ≥ 8 clean weeks).
MIN_HISTORY_DAYS = 56
FALLBACK_RATE = 0.08
# Share of an order's contacts on each day after it (days 0–4, then the rest spread over days 5–13).
FALLBACK_SPREAD = (0.15, 0.20, 0.20, 0.15, 0.10) + (0.20 / 9,) * 9
INTERVALS_PER_DAY = 48  # 30-minute intervals
SHAPE_WEEKS = 8  # same weekdays averaged for the intraday shape


@dataclass(frozen=True, slots=True)
class LagRates:
    rates: tuple[float, ...]
    fitted: bool  # False: the fallback rate, not enough history yet
    days: int  # days the fit used

    @property
    def contacts_per_order(self) -> float:
        return math.fsum(self.rates)


def fallback_rates() -> LagRates:
    return LagRates(tuple(FALLBACK_RATE * share for share in FALLBACK_SPREAD), False, 0)


def nnls(
    rows: Sequence[Sequence[float]], target: Sequence[float], sweeps: int = 2000, tol: float = 1e-12
) -> list[float]:
    """min ‖Xr − y‖² subject to r ≥ 0, by cyclic coordinate descent on the normal equations.
    The problem is convex, so each clipped coordinate step only lowers the error and the sweeps
    converge on the same optimum as Lawson–Hanson (tested against scipy.optimize.nnls)."""
    width = len(rows[0]) if rows else 0
    gram = [[math.fsum(r[i] * r[j] for r in rows) for j in range(width)] for i in range(width)]
    corr = [math.fsum(r[i] * y for r, y in zip(rows, target, strict=True)) for i in range(width)]
    x = [0.0] * width
    for _ in range(sweeps):
        change = 0.0
        for i in range(width):
            if gram[i][i] <= 0:
                continue
            gradient = math.fsum(gram[i][j] * x[j] for j in range(width)) - corr[i]
            new = max(0.0, x[i] - gradient / gram[i][i])
            change = max(change, abs(new - x[i]))
            x[i] = new
        if change <= tol * (1.0 + max(x, default=0.0)):
            break
    return x


def fit_lag_rates(
    orders: Mapping[date, float], contacts: Mapping[date, float], until: date, *, excluded: Iterable[date] = ()
) -> LagRates:
    """Fit rₖ on the days before `until` for which the previous LAGS days of orders are known;
    event days (promotions) are excluded, their uplift is separate."""
    skip = set(excluded)
    first_order = min(orders, default=until)
    rows: list[list[float]] = []
    target: list[float] = []
    day = first_order + timedelta(days=LAGS - 1)
    while day < until:
        if day not in skip:
            rows.append([float(orders.get(day - timedelta(days=k), 0.0)) for k in range(LAGS)])
            target.append(float(contacts.get(day, 0.0)))
        day += timedelta(days=1)
    if len(rows) < MIN_HISTORY_DAYS or not any(target):
        return fallback_rates()
    return LagRates(tuple(nnls(rows, target)), True, len(rows))


def contacts_on(day: date, orders: Mapping[date, float], rates: LagRates, uplift: float = 0.0) -> float:
    return math.fsum(orders.get(day - timedelta(days=k), 0.0) * r for k, r in enumerate(rates.rates)) * (1.0 + uplift)


def intraday_shape(
    history: Mapping[date, Sequence[float]], weekday: int, *, excluded: Iterable[date] = ()
) -> list[float]:
    """Each interval's share of the day, averaged over the last SHAPE_WEEKS same weekdays that had
    contacts; a flat day when there is no such history (said so on the page)."""
    skip = set(excluded)
    days = sorted((d for d, counts in history.items() if d.weekday() == weekday and d not in skip and sum(counts) > 0),
                  reverse=True)[:SHAPE_WEEKS]  # fmt: skip
    if not days:
        return [1.0 / INTERVALS_PER_DAY] * INTERVALS_PER_DAY
    shares = [0.0] * INTERVALS_PER_DAY
    for d in days:
        total = math.fsum(history[d])
        for i, count in enumerate(history[d]):
            shares[i] += count / total / len(days)
    return shares


def wape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """Weighted absolute percentage error over intervals: Σ|actual − forecast| ÷ Σ actual. Unlike
    MAPE it stays finite on the quiet intervals with no contacts; None when nothing happened."""
    total = math.fsum(actual)
    if total <= 0:
        return None
    return math.fsum(abs(a - f) for a, f in zip(actual, forecast, strict=True)) / total
