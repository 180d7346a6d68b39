"""Staffing formulas: the research's test vector, Erlang A against a simulated queue, large loads,
chat concurrency, the workload method, and the forecast from orders."""

from __future__ import annotations

import heapq
import math
import random
import time
from datetime import date, timedelta

import pytest

from aftersales.kit.errors import Invalid
from aftersales.scheduling import domain, forecasting


def test_the_research_test_vector_holds_exactly() -> None:
    # 100 calls / 30 min, 180 s handling, 80 % within 20 s (pyworkforce, CRAN ErlangC agree)
    s = domain.solve_erlang_c(100, 1800, 180, 20, 0.8, shrinkage=0.3, max_occupancy=0.85)
    assert s.agents == 14
    assert round(s.service_level, 3) == 0.888
    assert round(s.asa_seconds, 1) == 7.8
    assert s.rostered == 20
    wait, level, _asa = domain.erlang_c(14, 10.0, 180, 20)
    assert wait == pytest.approx(0.17413, abs=1e-5)
    assert level == pytest.approx(0.88835, abs=1e-5)
    # one agent fewer misses the target: 14 is the least
    assert domain.erlang_c(13, 10.0, 180, 20)[1] < 0.8


def test_erlang_b_recursion_matches_the_factorial_formula_on_small_loads() -> None:
    for n, load in [(1, 0.5), (5, 3.0), (10, 7.5), (20, 15.0)]:
        terms = [load**k / math.factorial(k) for k in range(n + 1)]
        assert domain.erlang_b(n, load) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)


def test_twenty_thousand_erlangs_solve_well_under_a_second() -> None:
    started = time.perf_counter()
    s = domain.solve_erlang_c(20000 * 10, 1800, 180, 20, 0.8, max_occupancy=1.0)
    assert time.perf_counter() - started < 0.5
    assert 20000 < s.agents < 20100 and s.service_level >= 0.8
    assert domain.erlang_c(s.agents - 1, 20000.0, 180, 20)[1] < 0.8
    # the occupancy cap, not the service level, decides at that size
    capped = domain.solve_erlang_c(20000 * 10, 1800, 180, 20, 0.8)
    assert capped.agents == math.ceil(20000 / 0.85) and capped.occupancy <= 0.85


def test_erlang_a_needs_fewer_agents_than_erlang_c_when_callers_give_up() -> None:
    # research example: 600 calls/h, 5 min handling, 3 min patience → C 57, A 52, ≈4.5 % abandon
    c = domain.solve_erlang_c(600, 3600, 300, 20, 0.8, max_occupancy=1.0)
    a = domain.solve_erlang_a(600, 3600, 300, 20, 0.8, patience=180, max_occupancy=1.0)
    assert (c.agents, a.agents) == (57, 52)
    assert a.abandon_rate == pytest.approx(0.045, abs=0.002)
    # patience long enough and Erlang A tends to Erlang C
    patient = domain.erlang_a(57, 600, 3600, 300, 20, 1e7)
    assert patient[0] == pytest.approx(c.service_level, abs=1e-3)


def _simulate(
    agents: int, calls_per_hour: float, handle: float, patience: float, t: float, seed: int
) -> tuple[float, float]:
    """M/M/N+M, first come first served: (share answered within t, share abandoned) over 200 h."""
    rng = random.Random(seed)
    hours, warm = 200.0, 5.0
    free_at = [0.0] * agents  # heap: when each agent is next free
    clock = 0.0
    seen = within = gave_up = 0
    while clock < hours * 3600:
        clock += rng.expovariate(calls_per_hour / 3600)
        start = max(clock, free_at[0])
        # callers ahead have already claimed their agents (FCFS), so this caller's wait is known now
        patience_left = rng.expovariate(1 / patience)
        counted = clock > warm * 3600
        if start - clock > patience_left:
            gave_up += counted
        else:
            heapq.heapreplace(free_at, start + rng.expovariate(1 / handle))
            within += counted and start - clock <= t
        seen += counted
    return within / seen, gave_up / seen


def test_erlang_a_agrees_with_a_simulated_stationary_hour() -> None:
    for agents, calls, handle, patience in [(52, 600, 300, 180), (12, 200, 180, 180)]:
        level, _asa, abandon, _occ = domain.erlang_a(agents, calls, 3600, handle, 20, patience)
        simulated, simulated_abandon = _simulate(agents, calls, handle, patience, 20, seed=18)
        assert abs(level - simulated) <= 0.03, (agents, level, simulated)
        assert abs(abandon - simulated_abandon) <= 0.01


def test_chat_concurrency_divides_the_handling_time() -> None:
    assert [domain.effective_chat_seconds(480, c) for c in range(1, 6)] == pytest.approx(
        [480, 480 / 1.7, 480 / 2.5, 480 / 2.9, 480 / 3.5]
    )
    one = domain.solve(120, 1800, 480, 30, 0.8, chats=1)
    three = domain.solve(120, 1800, 480, 30, 0.8, chats=3)
    assert three.agents < one.agents
    with pytest.raises(Invalid):
        domain.effective_chat_seconds(480, 6)


def test_workload_spreads_tickets_over_their_deadline() -> None:
    # 60 tickets × 10 min within a 60-minute deadline: 10 agents busy, 12 at 85 %, 18 rostered
    s = domain.solve_workload(60, 600, 3600)
    assert (s.agents, s.rostered, s.model) == (12, 18, domain.Model.WORKLOAD)
    assert domain.solve_workload(0, 600, 3600).agents == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"calls": -1},
        {"interval_seconds": 0},
        {"handle_seconds": 0},
        {"target": 1.0},
        {"target": 0},
        {"shrinkage": 1.0},
        {"max_occupancy": 0},
        {"calls": math.nan},
    ],
)
def test_impossible_inputs_are_refused_with_a_sentence(kwargs: dict[str, float]) -> None:
    args = {"calls": 100, "interval_seconds": 1800, "handle_seconds": 180, "answer_within": 20, "target": 0.8}
    args.update(kwargs)
    with pytest.raises(Invalid) as caught:
        domain.solve_erlang_c(**args)  # type: ignore[arg-type]
    assert caught.value.message


def test_no_calls_need_no_agents() -> None:
    assert domain.solve(0, 1800, 180, 20, 0.8).agents == 0
    assert domain.solve(0, 1800, 180, 20, 0.8, patience=180).rostered == 0


def test_nnls_agrees_with_scipy() -> None:
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = random.Random(4)
    rows = [[rng.uniform(0, 100) for _ in range(6)] for _ in range(40)]
    truth = [0.02, 0.0, 0.03, 0.0, 0.01, 0.005]
    target = [sum(a * b for a, b in zip(r, truth, strict=True)) + rng.gauss(0, 0.5) for r in rows]
    ours = forecasting.nnls(rows, target)
    theirs, _ = scipy_optimize.nnls(rows, target)
    assert ours == pytest.approx(list(theirs), abs=1e-6)
    assert min(ours) >= 0


def test_lag_rates_are_recovered_from_orders_and_contacts() -> None:
    rng = random.Random(7)
    start = date(2026, 8, 1)
    orders = {start + timedelta(days=i): float(rng.randint(800, 1200)) for i in range(120)}
    truth = [0.03, 0.02, 0.01] + [0.0] * 11
    contacts = {d: sum(orders.get(d - timedelta(days=k), 0) * r for k, r in enumerate(truth)) for d in orders}
    rates = forecasting.fit_lag_rates(orders, contacts, start + timedelta(days=120))
    assert rates.fitted and rates.rates == pytest.approx(truth, abs=1e-6)
    day = start + timedelta(days=130)
    assert forecasting.contacts_on(day, orders | {day: 1000.0}, rates, uplift=0.5) == pytest.approx(
        1.5 * (1000 * 0.03 + 0 + 0), rel=1e-6
    )


def test_short_history_falls_back_to_eight_contacts_per_hundred_orders() -> None:
    start = date(2026, 11, 1)
    orders = {start + timedelta(days=i): 100.0 for i in range(20)}
    rates = forecasting.fit_lag_rates(orders, {start: 5.0}, start + timedelta(days=20))
    assert not rates.fitted
    assert rates.contacts_per_order == pytest.approx(0.08)
    assert forecasting.contacts_on(start + timedelta(days=19), orders, rates) == pytest.approx(8.0)


def test_intraday_shape_averages_the_same_weekdays() -> None:
    monday = date(2026, 11, 30)
    quiet = [0.0] * 48
    morning = quiet.copy()
    morning[20] = 10.0
    evening = quiet.copy()
    evening[40] = 30.0
    history = {monday: morning, monday - timedelta(days=7): evening, monday + timedelta(days=1): evening}
    shape = forecasting.intraday_shape(history, weekday=0)
    assert shape[20] == pytest.approx(0.5) and shape[40] == pytest.approx(0.5) and sum(shape) == pytest.approx(1)
    assert forecasting.intraday_shape({}, weekday=3) == pytest.approx([1 / 48] * 48)


def test_wape_weights_errors_by_volume() -> None:
    assert forecasting.wape([10, 0, 30], [12, 1, 27]) == pytest.approx(6 / 40)
    assert forecasting.wape([0, 0], [1, 2]) is None


def _answered_within_by_uniformization(queue: list[float], n: int, mu: float, theta: float, t: float) -> float:
    """The same quantity the slow way: the tagged caller's chain stepped by uniformization."""
    uniform = n * mu + len(queue) * theta + theta
    mean = uniform * t
    weights, log_p = [], -mean
    for k in range(int(mean + 12 * math.sqrt(mean) + 30)):
        log_p += math.log(mean / k) if k else 0.0
        weights.append(math.exp(log_p))
    mass, answered, total = list(queue), 0.0, 0.0
    for w in weights:
        total += w * answered
        moved = [mass[i] * (n * mu + i * theta) / uniform for i in range(len(mass))]
        answered += moved[0]
        mass = [mass[i] * (1 - (n * mu + (i + 1) * theta) / uniform) + (moved[i + 1] if i + 1 < len(mass) else 0.0)
                for i in range(len(mass))]  # fmt: skip
    return total + answered * max(0.0, 1 - sum(weights))


@pytest.mark.parametrize(
    ("agents", "calls", "handle", "patience"), [(52, 600, 300, 180), (14, 200, 180, 60), (9, 200, 180, 600)]
)
def test_erlang_a_closed_form_matches_the_tagged_callers_chain(
    agents: int, calls: float, handle: float, patience: float
) -> None:
    rate, mu, theta = calls / 3600, 1 / handle, 1 / patience
    queue = domain._waiting_states(agents, rate, mu, theta, domain.erlang_b(agents, rate / mu))
    closed = domain._answered_within(queue, agents, mu, theta, 20)
    assert closed == pytest.approx(_answered_within_by_uniformization(queue, agents, mu, theta, 20), abs=1e-9)


def test_erlang_a_at_twenty_thousand_erlangs_solves_in_under_a_second() -> None:
    started = time.perf_counter()
    s = domain.solve_erlang_a(20000 * 10, 1800, 180, 20, 0.8, patience=180, max_occupancy=1.0)
    assert time.perf_counter() - started < 1.0
    assert s.service_level >= 0.8 and s.agents < 20000  # callers who give up leave fewer to answer
    assert domain.erlang_a(s.agents - 1, 20000 * 10, 1800, 180, 20, 180)[0] < 0.8
