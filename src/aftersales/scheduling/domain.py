"""Pure staffing rules: how many agents an interval's contacts need (see docs/peak.md).

- Erlang C (M/M/N): Erlang B by its recursion, no factorials, so 20,000 Erlangs take milliseconds.
- Erlang A (M/M/N+M) when callers' patience is known: the birth-death chain summed in log-space,
  the service level of a tagged caller in closed form (an incomplete beta, one pass over the queue).
- Chat: handling time divided by the concurrency factor of the chats an agent holds at once.
- Tickets and cases: the workload method against their business-time deadline.
- Every model then caps occupancy (0.85) and adds shrinkage (0.30) for the rostered headcount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from aftersales.kit.errors import Invalid

MAX_OCCUPANCY = 0.85
SHRINKAGE = 0.30
PATIENCE_SECONDS = 180.0
INTERVAL_MINUTES = 30
# Effective chats handled at once for 1–5 simultaneous chats (callcentrehelper.com, "Erlang C for chat").
CHAT_CONCURRENCY_FACTORS = {1: 1.0, 2: 1.7, 3: 2.5, 4: 2.9, 5: 3.5}
# Tail mass below which the Erlang A chain is cut off.
TAIL = 1e-14
# A rounding guard: 14.000000000002 agents is 14 agents.
_EPS = 1e-9


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class Model(StrEnum):
    ERLANG_C = "erlang_c"
    ERLANG_A = "erlang_a"
    WORKLOAD = "workload"


# A small frozen dataclass like others on purpose: one interval's staffing, as a model worked it out.
@dataclass(frozen=True, slots=True)
class Staffing:
    model: Model
    agents: int  # productive agents needed at once in the interval
    rostered: int  # agents to put on the roster: agents grossed up for shrinkage
    service_level: float
    asa_seconds: float
    occupancy: float
    abandon_rate: float
    load_erlangs: float


def _check(name: str, value: float, low: float, high: float | None = None, *, open_low: bool = False) -> None:
    bad = not math.isfinite(value) or value < low or (open_low and value == low) or (high is not None and value > high)
    if bad:
        upper = f" and at most {high:g}" if high is not None else ""
        relation = "more than" if open_low else "at least"
        raise Invalid(f"{name} must be {relation} {low:g}{upper} (got {value:g}).", key="scheduling.error.range",
                      field=name, low=f"{low:g}", high=f"{high:g}" if high is not None else "∞")  # fmt: skip


def offered_load(calls: float, interval_seconds: float, handle_seconds: float) -> float:
    """Erlangs: arrivals per second times the handling time."""
    return calls / interval_seconds * handle_seconds


def rostered(agents: int, shrinkage: float = SHRINKAGE) -> int:
    """Heads on the roster so that `agents` are productive after breaks, training, absence."""
    return math.ceil(agents / (1.0 - shrinkage) - _EPS) if agents else 0


def occupancy_floor(load: float, max_occupancy: float = MAX_OCCUPANCY) -> int:
    """Fewest agents keeping occupancy at or under the cap (burn-out sets in above it)."""
    return math.ceil(load / max_occupancy - _EPS) if load > 0 else 0


def effective_chat_seconds(handle_seconds: float, chats: int) -> float:
    """A chat's handling time as agent time, when an agent holds `chats` conversations at once."""
    if chats not in CHAT_CONCURRENCY_FACTORS:
        raise Invalid(f"Chats at once must be 1 to 5 (got {chats}).", key="scheduling.error.chats", chats=chats)
    return handle_seconds / CHAT_CONCURRENCY_FACTORS[chats]


# --- Erlang C -----------------------------------------------------------------------------------


class _ErlangB:
    """B(n) for one load, extended as the search asks: B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)).
    Every value stays in [0, 1], so the recursion neither overflows nor needs logs."""

    def __init__(self, load: float) -> None:
        self.load = load
        self.values = [1.0]

    def __call__(self, n: int) -> float:
        values, load = self.values, self.load
        while len(values) <= n:
            prev = values[-1]
            values.append(load * prev / (len(values) + load * prev))
        return values[n]


def erlang_b(agents: int, load: float) -> float:
    return _ErlangB(load)(agents)


def _erlang_c_at(b: _ErlangB, n: int, load: float, handle: float, answer_within: float) -> tuple[float, float, float]:
    """(probability to wait, service level, ASA) with n agents; n ≤ load never reaches a steady state."""
    if load <= 0:
        return 0.0, 1.0, 0.0
    if n <= load:
        return 1.0, 0.0, math.inf
    blocking = b(n)
    wait = n * blocking / (n - load * (1.0 - blocking))
    level = 1.0 - wait * math.exp(-(n - load) * answer_within / handle)
    return wait, level, wait * handle / (n - load)


def erlang_c(agents: int, load: float, handle_seconds: float, answer_within: float) -> tuple[float, float, float]:
    return _erlang_c_at(_ErlangB(load), agents, load, handle_seconds, answer_within)


def _start(load: float, target: float) -> int:
    """Square-root staffing: N ≈ A + β√A (Halfin–Whitt), β growing with the target; the search
    walks from here, a handful of steps even at 20,000 Erlangs."""
    beta = 0.5 + 1.5 * target
    return max(1, math.floor(load + beta * math.sqrt(load)))


# The same parameters as solve_erlang_a on purpose: callers switch models; Erlang A adds patience.
def solve_erlang_c(
    calls: float,
    interval_seconds: float,
    handle_seconds: float,
    answer_within: float,
    target: float,
    *,
    max_occupancy: float = MAX_OCCUPANCY,
    shrinkage: float = SHRINKAGE,
) -> Staffing:
    _validate(calls, interval_seconds, handle_seconds, answer_within, target, max_occupancy, shrinkage)
    load = offered_load(calls, interval_seconds, handle_seconds)
    if load == 0:
        return Staffing(Model.ERLANG_C, 0, 0, 1.0, 0.0, 0.0, 0.0, 0.0)
    b = _ErlangB(load)

    def meets(n: int) -> bool:
        return _erlang_c_at(b, n, load, handle_seconds, answer_within)[1] >= target - _EPS

    n = max(_start(load, target), math.floor(load) + 1)
    if meets(n):
        while n - 1 > load and meets(n - 1):
            n -= 1
    else:
        while not meets(n):
            n += 1
    n = max(n, occupancy_floor(load, max_occupancy))
    _, level, asa = _erlang_c_at(b, n, load, handle_seconds, answer_within)
    return Staffing(Model.ERLANG_C, n, rostered(n, shrinkage), level, asa, load / n, 0.0, load)


# --- Erlang A -----------------------------------------------------------------------------------


def _waiting_states(n: int, rate: float, mu: float, theta: float, blocking: float) -> list[float]:
    """P(an arrival finds all n agents busy and j callers waiting), j = 0, 1, …, from the steady
    state of the birth-death chain. States below n are the Erlang B distribution, so their mass
    relative to state n is 1/B(n) and needs no sum; the waiting states are summed in log-space (an
    overloaded line climbs far above state n) and cut where the tail is below TAIL."""
    logs = [0.0]  # log π(n + j) − log π(n)
    cut = math.log(TAIL) - 5
    low = -math.log(blocking)  # log Σ_{k ≤ n} π(k) − log π(n)
    top = max(0.0, low)
    while True:
        j = len(logs)
        logs.append(logs[-1] + math.log(rate / (n * mu + j * theta)))
        top = max(top, logs[-1])
        if logs[-1] < logs[-2] and logs[-1] - top < cut:  # past the mode and negligible
            break
    below = math.exp(low - top) - math.exp(-top)  # states 0 … n−1
    weights = [math.exp(x - top) for x in logs]
    total = below + math.fsum(weights)
    return [w / total for w in weights]


def _answered_within(queue: list[float], n: int, mu: float, theta: float, t: float) -> float:
    """Of the callers who arrive to find everyone busy (queue[j]: j callers ahead of them), the mass
    answered within t. A caller J-th in line (J = j + 1) leaves place m at rate Nμ + mθ: one step up,
    or (θ) giving up. So with a = Nμ/θ he reaches an agent with probability a/(a+J) (the product
    telescopes), and the time to get there is a sum of exponentials of rates θ(a+1)…θ(a+J), whose
    distribution is the regularized incomplete beta I_p(J, a+1), p = 1 − e^{−θt} (the J-th death
    among a+J lifetimes). I_p(J+1, b) = I_p(J, b) − p^J (1−p)^b Γ(J+b)/(Γ(J+1)Γ(b)): one term per
    place, in log-space, so a queue of any length costs one pass."""
    if t <= 0 or not queue:
        return 0.0
    a = n * mu / theta
    b = a + 1.0
    log_p, log_q = math.log(-math.expm1(-theta * t)), -theta * t
    within = -math.expm1(b * log_q)  # I_p(1, b) = 1 − (1−p)^b
    log_gamma_b = math.lgamma(b)
    total = 0.0
    for j, mass in enumerate(queue):
        place = j + 1
        total += mass * a / (a + place) * max(within, 0.0)
        within -= math.exp(place * log_p + b * log_q + math.lgamma(place + b) - math.lgamma(place + 1) - log_gamma_b)
    return total


def erlang_a(
    agents: int,
    calls: float,
    interval_seconds: float,
    handle_seconds: float,
    answer_within: float,
    patience: float,
    *,
    erlang_b_of: _ErlangB | None = None,
) -> tuple[float, float, float, float]:
    """(service level, ASA over all callers, abandon rate, occupancy) with `agents` answering."""
    rate, mu, theta = calls / interval_seconds, 1.0 / handle_seconds, 1.0 / patience
    load = rate / mu
    if rate == 0:
        return 1.0, 0.0, 0.0, 0.0
    if agents == 0:
        return 0.0, patience, 1.0, 0.0
    blocking = (erlang_b_of or _ErlangB(load))(agents)
    if blocking < 1e-300:  # so many agents that nobody ever waits
        return 1.0, 0.0, 0.0, load / agents
    queue = _waiting_states(agents, rate, mu, theta, blocking)
    waiting_length = math.fsum(j * p for j, p in enumerate(queue))
    abandon = theta * waiting_length / rate
    level = 1.0 - (math.fsum(queue) - _answered_within(queue, agents, mu, theta, answer_within))
    # Little's law on the agents: those answered keep one busy for the handling time
    return level, waiting_length / rate, abandon, load * (1.0 - abandon) / agents


# The same parameters as solve_erlang_c on purpose: callers switch models; Erlang A adds patience.
def solve_erlang_a(
    calls: float,
    interval_seconds: float,
    handle_seconds: float,
    answer_within: float,
    target: float,
    *,
    patience: float = PATIENCE_SECONDS,
    max_occupancy: float = MAX_OCCUPANCY,
    shrinkage: float = SHRINKAGE,
) -> Staffing:
    _validate(calls, interval_seconds, handle_seconds, answer_within, target, max_occupancy, shrinkage)
    _check("patience", patience, 0, open_low=True)
    load = offered_load(calls, interval_seconds, handle_seconds)
    if load == 0:
        return Staffing(Model.ERLANG_A, 0, 0, 1.0, 0.0, 0.0, 0.0, 0.0)

    b = _ErlangB(load)

    def level(n: int) -> float:
        return erlang_a(n, calls, interval_seconds, handle_seconds, answer_within, patience, erlang_b_of=b)[0]

    # Abandonment only lowers the need below Erlang C's (impatient callers leave the queue), so
    # Erlang C's answer, found from A + β√A, is where the search starts; it gallops down in doubling
    # steps of √A, then bisects: about fifteen evaluations at 20,000 Erlangs.
    high = solve_erlang_c(calls, interval_seconds, handle_seconds, answer_within, target, max_occupancy=1.0).agents
    while level(high) < target - _EPS:
        high += 1
    step = max(1, math.isqrt(math.ceil(load)))  # the gap to Erlang C grows like √A and beyond
    low = max(0, high - step)
    while low > 0 and level(low) >= target - _EPS:
        high, step = low, step * 2
        low = max(0, high - step)
    while high - low > 1:
        mid = (low + high) // 2
        if level(mid) >= target - _EPS:
            high = mid
        else:
            low = mid
    # with abandonment the queue is stable at any N; the occupancy cap still applies to answered work
    n = high
    while True:
        sl, asa, abandon, occ = erlang_a(n, calls, interval_seconds, handle_seconds, answer_within, patience,
                                         erlang_b_of=b)  # fmt: skip
        if occ <= max_occupancy + _EPS:
            break
        n = max(n + 1, occupancy_floor(load * (1 - abandon), max_occupancy))
    return Staffing(Model.ERLANG_A, n, rostered(n, shrinkage), sl, asa, occ, abandon, load)


# --- Tickets and cases --------------------------------------------------------------------------


def solve_workload(
    items: float,
    handle_seconds: float,
    deadline_business_seconds: float,
    *,
    max_occupancy: float = MAX_OCCUPANCY,
    shrinkage: float = SHRINKAGE,
) -> Staffing:
    """Work that waits in a queue rather than on a line: the interval's items must be handled
    within their deadline, so their agent-seconds spread over the deadline's business seconds."""
    _check("items", items, 0)
    _check("handling time", handle_seconds, 0, open_low=True)
    _check("deadline", deadline_business_seconds, 0, open_low=True)
    _check("max occupancy", max_occupancy, 0, 1, open_low=True)
    _check("shrinkage", shrinkage, 0, 0.95)
    load = items * handle_seconds / deadline_business_seconds
    n = occupancy_floor(load, max_occupancy)
    return Staffing(Model.WORKLOAD, n, rostered(n, shrinkage), 1.0 if n or not load else 0.0, 0.0,
                    load / n if n else 0.0, 0.0, load)  # fmt: skip


def _validate(
    calls: float,
    interval_seconds: float,
    handle_seconds: float,
    answer_within: float,
    target: float,
    max_occupancy: float,
    shrinkage: float,
) -> None:
    _check("calls", calls, 0)
    _check("interval", interval_seconds, 0, open_low=True)
    _check("handling time", handle_seconds, 0, open_low=True)
    _check("answer within", answer_within, 0)
    _check("target", target, 0, 1, open_low=True)
    _check("max occupancy", max_occupancy, 0, 1, open_low=True)
    _check("shrinkage", shrinkage, 0, 0.95)
    if target >= 1:
        raise Invalid("A target of 100 % needs infinitely many agents; choose less than 1.",
                      key="scheduling.error.target")  # fmt: skip


def solve(
    calls: float,
    interval_seconds: float,
    handle_seconds: float,
    answer_within: float,
    target: float,
    *,
    patience: float | None = None,
    chats: int | None = None,
    max_occupancy: float = MAX_OCCUPANCY,
    shrinkage: float = SHRINKAGE,
) -> Staffing:
    """Erlang A when patience is known, else Erlang C; chats shrink the handling time first."""
    handle = effective_chat_seconds(handle_seconds, chats) if chats is not None else handle_seconds
    if patience is None:
        return solve_erlang_c(calls, interval_seconds, handle, answer_within, target,
                              max_occupancy=max_occupancy, shrinkage=shrinkage)  # fmt: skip
    return solve_erlang_a(calls, interval_seconds, handle, answer_within, target, patience=patience,
                          max_occupancy=max_occupancy, shrinkage=shrinkage)  # fmt: skip
