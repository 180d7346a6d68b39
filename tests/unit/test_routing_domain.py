"""The pure routing rules: never over capacity, skills and groups respected, least loaded first,
fair rotation among equals, urgent then VIP / high value then oldest in the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.routing import domain
from aftersales.routing.defaults import DefaultsError, parse_defaults
from aftersales.routing.domain import (
    AgentSnapshot,
    AgentStatus,
    GroupSnapshot,
    RoutableWork,
    Tier,
    WaitingWork,
    WorkKind,
)

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
GROUPS = ("g1", "g2", "g3")
SKILLS = ("en", "zh", "vip", "appliances")


def moments(n: int) -> list[datetime]:
    return [T0 + timedelta(seconds=i) for i in range(n)]


@st.composite
def agents(draw: st.DrawFn, max_size: int = 8) -> list[AgentSnapshot]:
    count = draw(st.integers(min_value=0, max_value=max_size))
    made = []
    for user_id in range(1, count + 1):
        max_chats = draw(st.integers(0, 4))
        max_tickets = draw(st.integers(0, 6))
        made.append(
            AgentSnapshot(
                user_id=user_id,
                status=draw(st.sampled_from(list(AgentStatus))),
                groups=frozenset(draw(st.sets(st.sampled_from(GROUPS)))),
                skills=frozenset(draw(st.sets(st.sampled_from(SKILLS)))),
                max_chats=max_chats,
                max_tickets=max_tickets,
                open_chats=draw(st.integers(0, max_chats)),
                open_tickets=draw(st.integers(0, max_tickets)),
                last_assigned_at=draw(st.none() | st.sampled_from(moments(5))),
                assigned_total=draw(st.integers(0, 5)),
            )
        )
    return made


@st.composite
def works(draw: st.DrawFn, max_size: int = 20) -> list[WaitingWork]:
    count = draw(st.integers(min_value=0, max_value=max_size))
    return [
        WaitingWork(
            kind=draw(st.sampled_from(list(WorkKind))),
            ref=f"W{i:03d}",
            group_key=draw(st.sampled_from(GROUPS)),
            enqueued_at=T0 + timedelta(minutes=draw(st.integers(0, 600))),
            required_skills=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=2))),
            priority=draw(st.integers(0, 3)),
            vip=draw(st.booleans()),
            order_value=draw(st.none() | st.integers(0, 500_000).map(lambda cents: Decimal(cents) / 100)),
        )
        for i in range(count)
    ]


@settings(max_examples=100, deadline=None)
@given(waiting=works(), team=agents())
def test_distribution_never_exceeds_capacity_and_respects_groups_and_skills(
    waiting: list[WaitingWork], team: list[AgentSnapshot]
) -> None:
    placed, after = domain.distribute(waiting, team, moments(len(waiting)))
    by_ref = {w.ref: w for w in waiting}
    before = {a.user_id: a for a in team}
    for agent in after:
        assert agent.open_chats <= agent.max_chats
        assert agent.open_tickets <= agent.max_tickets
    for ref, user_id in placed:
        work, agent = by_ref[ref], before[user_id]
        assert agent.status is AgentStatus.ONLINE
        assert work.group_key in agent.groups
        assert work.required_skills <= agent.skills
    assert len({ref for ref, _ in placed}) == len(placed)  # nothing placed twice


@settings(max_examples=100, deadline=None)
@given(work=works(max_size=1).filter(bool), team=agents())
def test_the_chosen_agent_is_eligible_and_least_loaded(work: list[WaitingWork], team: list[AgentSnapshot]) -> None:
    item = work[0]
    chosen = domain.choose_agent(item, team)
    fitting = [a for a in team if domain.eligible(item, a)]
    if not fitting:
        assert chosen is None
        return
    winner = next(a for a in team if a.user_id == chosen)
    assert domain.eligible(item, winner)
    assert winner.load_ratio(item.kind) == min(a.load_ratio(item.kind) for a in fitting)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 6), k=st.integers(1, 5), kind=st.sampled_from(list(WorkKind)))
def test_fair_rotation_gives_each_of_n_equal_agents_k_of_k_times_n_items(n: int, k: int, kind: WorkKind) -> None:
    team = [
        AgentSnapshot(user_id=i, status=AgentStatus.ONLINE, groups=frozenset({"g1"}), skills=frozenset(),
                      max_chats=k, max_tickets=k)
        for i in range(1, n + 1)
    ]  # fmt: skip
    items = [WaitingWork(kind=kind, ref=f"W{i:03d}", group_key="g1", enqueued_at=T0) for i in range(k * n)]
    placed, after = domain.distribute(items, team, moments(len(items)))
    counts = {a.user_id: sum(1 for _, uid in placed if uid == a.user_id) for a in team}
    assert set(counts.values()) == {k}
    assert all(a.load(kind) == k for a in after)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 6), k=st.integers(1, 5))
def test_fair_rotation_holds_when_work_is_finished_at_once_under_a_frozen_clock(n: int, k: int) -> None:
    """Every item is done before the next arrives (load stays 0) and every assignment carries the
    same timestamp: the rotation still goes round."""
    team = {
        i: AgentSnapshot(user_id=i, status=AgentStatus.ONLINE, groups=frozenset({"g1"}), skills=frozenset(),
                         max_chats=1, max_tickets=1)
        for i in range(1, n + 1)
    }  # fmt: skip
    counts = dict.fromkeys(team, 0)
    for i in range(k * n):
        item = WaitingWork(kind=WorkKind.CHAT, ref=f"W{i}", group_key="g1", enqueued_at=T0)
        chosen = domain.choose_agent(item, team.values())
        assert chosen is not None
        counts[chosen] += 1
        took = team[chosen].took(WorkKind.CHAT, T0)
        team[chosen] = AgentSnapshot(**{**{f: getattr(took, f) for f in took.__slots__}, "open_chats": 0})
    assert set(counts.values()) == {k}


def test_rotation_prefers_the_agent_assigned_longest_ago_then_the_lower_id() -> None:
    def agent(uid: int, at: datetime | None) -> AgentSnapshot:
        return AgentSnapshot(uid, AgentStatus.ONLINE, frozenset({"g1"}), frozenset(), 3, 3, 1, 1, at, 1)

    item = WaitingWork(WorkKind.TICKET, "W1", "g1", T0)
    assert domain.choose_agent(item, [agent(1, T0 + timedelta(hours=1)), agent(2, T0)]) == 2
    assert domain.choose_agent(item, [agent(3, T0), agent(2, T0)]) == 2
    assert domain.choose_agent(item, [agent(1, T0), agent(5, None)]) == 5


def test_load_ratio_compares_agents_of_different_capacity() -> None:
    big = AgentSnapshot(1, AgentStatus.ONLINE, frozenset({"g1"}), frozenset(), 4, 4, open_chats=2)
    small = AgentSnapshot(2, AgentStatus.ONLINE, frozenset({"g1"}), frozenset(), 2, 2, open_chats=0)
    item = WaitingWork(WorkKind.CHAT, "C1", "g1", T0)
    assert domain.choose_agent(item, [big, small]) == 2
    half = AgentSnapshot(2, AgentStatus.ONLINE, frozenset({"g1"}), frozenset(), 2, 2, open_chats=1)
    assert domain.choose_agent(item, [big, half]) == 1  # 2/4 == 1/2: the tie goes to the lower id


def test_away_and_offline_agents_and_exclusions_get_nothing() -> None:
    item = WaitingWork(WorkKind.CHAT, "C1", "g1", T0)
    for status in (AgentStatus.AWAY, AgentStatus.OFFLINE):
        assert domain.choose_agent(item, [AgentSnapshot(1, status, frozenset({"g1"}), frozenset(), 5, 5)]) is None
    online = AgentSnapshot(1, AgentStatus.ONLINE, frozenset({"g1"}), frozenset(), 5, 5)
    assert domain.choose_agent(WaitingWork(WorkKind.CHAT, "C1", "g1", T0, exclude=frozenset({1})), [online]) is None


@settings(max_examples=100, deadline=None)
@given(waiting=works())
def test_queue_order_is_priority_then_vip_or_high_value_then_age(waiting: list[WaitingWork]) -> None:
    ordered = domain.queue_order(waiting)
    for a, b in pairwise(ordered):
        assert a.priority <= b.priority
        if a.priority == b.priority:
            assert domain.boosted(a) >= domain.boosted(b)
            if domain.boosted(a) == domain.boosted(b):
                assert a.enqueued_at <= b.enqueued_at


@settings(max_examples=100, deadline=None)
@given(regulars=st.integers(0, 10), vip_age=st.integers(0, 600))
def test_a_vip_gets_the_only_free_slot_before_older_regular_work(regulars: int, vip_age: int) -> None:
    one_slot = AgentSnapshot(1, AgentStatus.ONLINE, frozenset({"g1"}), frozenset(), 1, 1)
    waiting = [WaitingWork(WorkKind.CHAT, f"R{i}", "g1", T0 + timedelta(minutes=i)) for i in range(regulars)]
    waiting.append(WaitingWork(WorkKind.CHAT, "VIP", "g1", T0 + timedelta(minutes=vip_age), vip=True))
    assert domain.pick_work(one_slot, waiting) == waiting[-1]
    placed, _ = domain.distribute(waiting, [one_slot], moments(len(waiting)))
    assert placed == [("VIP", 1)]


def test_high_order_value_moves_up_but_not_past_a_more_urgent_priority() -> None:
    regular = WaitingWork(WorkKind.TICKET, "A", "g1", T0)
    rich = WaitingWork(WorkKind.TICKET, "B", "g1", T0 + timedelta(hours=1), order_value=Decimal("2999.00"))
    urgent = WaitingWork(WorkKind.TICKET, "C", "g1", T0 + timedelta(hours=2), priority=0)
    assert [w.ref for w in domain.queue_order([regular, rich, urgent])] == ["C", "B", "A"]
    assert not domain.boosted(WaitingWork(WorkKind.TICKET, "D", "g1", T0, order_value=Decimal("1999.99")))


def test_priority_names_rank_most_urgent_first() -> None:
    ranks = [domain.priority_rank(n) for n in ("urgent", "high", "medium", "low")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4
    assert domain.priority_rank("whatever") == domain.priority_rank("medium")
    assert RoutableWork("ticket", "T1", priority="high").rank == domain.priority_rank("high")
    assert RoutableWork("chat", "1", priority=0).rank == 0
    with pytest.raises(ValueError, match="ticket or chat"):
        domain.work_kind("email")


PLATFORM = [
    GroupSnapshot("tier1-general", Tier.T1, frozenset({"consultation"}), members=2),
    GroupSnapshot("tier1-returns", Tier.T1, frozenset({"return", "defect"}), members=2),
    GroupSnapshot("tier2-complaints", Tier.T2, frozenset({"complaint", "defect"}), members=1),
    GroupSnapshot("cat-baby", Tier.T1, frozenset({"baby_maternal"}), members=1),
    GroupSnapshot("merchant-pop-a", Tier.T1, frozenset(), merchant_id=7, members=1),
    GroupSnapshot("merchant-pop-b", Tier.T1, frozenset(), merchant_id=8, members=0),
]


@pytest.mark.parametrize(
    ("work", "group"),
    [
        (RoutableWork("ticket", "1", merchant_id=7, problem_type="return"), "merchant-pop-a"),
        (RoutableWork("ticket", "2", merchant_id=8, problem_type="return"), "tier1-returns"),  # no staff
        (RoutableWork("ticket", "3", problem_type="defect", category="baby_maternal"), "tier1-returns"),
        (RoutableWork("ticket", "4", problem_type="late_delivery", category="baby_maternal"), "cat-baby"),
        (RoutableWork("ticket", "5", problem_type="complaint"), "tier2-complaints"),
        (RoutableWork("ticket", "6"), "tier1-general"),
        (RoutableWork("ticket", "7", group_key="cat-baby", merchant_id=7), "cat-baby"),
    ],
)
def test_pick_group(work: RoutableWork, group: str) -> None:
    assert domain.pick_group(work, PLATFORM) == group


def test_skills_and_capacity_checks_speak_plainly() -> None:
    assert domain.parse_skills("EN, zh，appliances  en") == ["en", "zh", "appliances"]
    assert domain.skills_problem(["en", "baby_maternal"]) is None
    assert "not valid" in (domain.skills_problem(["has space"]) or "")
    assert domain.capacity_problem(5, 20) is None
    assert "chats" in (domain.capacity_problem(51, 1) or "")
    assert "tickets" in (domain.capacity_problem(1, -1) or "")


def test_the_shipped_defaults_parse_and_bad_ones_are_named() -> None:
    path = Path(domain.__file__).parent / "data" / "defaults.yaml"
    defaults = parse_defaults(yaml.safe_load(path.read_text(encoding="utf-8")))
    keys = {g.key for g in defaults.groups}
    assert {"tier1-general", "tier1-returns", "tier1-logistics", "tier2-complaints", "tier2-disputes"} <= keys
    assert {"cat-appliances", "cat-baby"} <= keys
    assert defaults.merchant_queue.escalation == "tier2-disputes"
    assert set(defaults.agents) == {"agent_t1", "agent_t2", "supervisor", "merchant"}
    assert all(defaults.agents[r].tier is Tier.T2 for r in ("agent_t2", "supervisor"))
    queue = defaults.merchant_queue.for_merchant(7, "pop-mama", "贝贝母婴")
    assert queue.key == "merchant-pop-mama" and queue.merchant_id == 7 and "贝贝母婴" in queue.name_zh
    with pytest.raises(DefaultsError, match="escalation group 'nowhere'"):
        parse_defaults({"groups": [{"key": "a", "tier": "t1", "escalation": "nowhere"}]})
    with pytest.raises(DefaultsError, match="tier"):
        parse_defaults({"groups": [{"key": "a", "tier": "t9"}]})
    with pytest.raises(DefaultsError, match="unknown groups"):
        parse_defaults({"groups": [], "agents": {"agent_t1": {"tier": "t1", "groups": ["x"]}}})
