"""Routing against a real database: defaults, enqueue, release, status, transfer, escalate,
reassign, the agent settings, and capacity under concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Invalid, NotFound
from aftersales.messaging.models import OutboxMessage
from aftersales.orders import service as orders
from aftersales.routing import service as routing
from aftersales.routing.domain import AgentStatus, RoutableWork, Tier

from ..factories import Factory

T = TypeVar("T")
ADMIN = Principal(user_id=0, username="root", role=Role.ADMIN, display_name="root")


def tx(db: Database, fn: Callable[[Session], T]) -> T:
    with db.write() as uow:
        result = fn(uow.session)
        uow.commit()
        return result


def ticket(ref: str, **extra: object) -> RoutableWork:
    return RoutableWork(kind="ticket", ref=ref, **extra)


def enqueue(db: Database, work: RoutableWork) -> routing.Assignment | None:
    return tx(db, lambda s: routing.enqueue(s, work))


def release(db: Database, ref: str) -> list[routing.Assignment]:
    return tx(db, lambda s: routing.release(s, "ticket", ref))


def online(db: Database, user_id: int) -> list[routing.Assignment]:
    return tx(db, lambda s: routing.set_status(s, user_id, AgentStatus.ONLINE))


def settings_of(db: Database, user_id: int, **change: object) -> None:
    """Change one agent's settings through the administrators' use case."""
    with db.read() as uow:
        current = routing.profile(uow.session, user_id)
    assert current is not None
    values: dict[str, object] = {
        "tier": Tier(current.tier),
        "skills": current.skills,
        "groups": current.groups,
        "max_chats": current.max_chats,
        "max_tickets": current.max_tickets,
        "version": current.version,
    }
    values.update(change)
    routing.update_agent(db, user_id, by=ADMIN, **values)


@pytest.fixture
def desk(db: Database, factory: Factory) -> dict[str, int]:
    factory.catalogue()
    ids = {
        "a1": factory.user("ag1", Role.AGENT_T1).id,
        "a2": factory.user("ag2", Role.AGENT_T1).id,
        "b1": factory.user("bg1", Role.AGENT_T2).id,
        "sup": factory.user("sup", Role.SUPERVISOR).id,
        "shop": factory.merchant_user("shop-a", "pop-a").id,
        "customer-like": factory.user("arb", Role.ARBITRATOR).id,
    }
    routing.ensure_defaults(db)
    return ids


def outbox(db: Database) -> list[dict[str, object]]:
    with db.read() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "routing.assigned"))
        return [dict(r.payload) for r in rows]


def test_defaults_make_groups_queues_and_profiles_once(db: Database, desk: dict[str, int]) -> None:
    with db.read() as uow:
        queues = {q.key: q for q in routing.queues_overview(uow.session)}
        agents = {a.username: a for a in routing.agents_overview(uow.session)}
    assert {"tier1-general", "tier1-returns", "tier1-logistics", "tier2-complaints", "tier2-disputes"} <= set(queues)
    assert {"cat-appliances", "cat-baby", "merchant-pop-a", "merchant-pop-b"} <= set(queues)
    assert "merchant-selfop" not in queues  # self-operated goods are the platform's own
    assert queues["merchant-pop-a"].merchant_id == orders.merchant_id_for(db, "pop-a")
    assert queues["merchant-pop-a"].escalation_key == "tier2-disputes"
    assert set(agents) == {"ag1", "ag2", "bg1", "sup", "shop-a"}  # the arbitrator takes no routed work
    assert agents["ag1"].tier == "t1" and "tier1-general" in agents["ag1"].groups
    assert agents["bg1"].tier == "t2" and agents["sup"].groups == ["tier2-complaints", "tier2-disputes"]
    assert agents["shop-a"].groups == ["merchant-pop-a"]
    assert all(a.status == "offline" for a in agents.values())
    assert routing.ensure_defaults(db) == {"groups": 0, "profiles": 0}


@pytest.mark.usefixtures("no_outbox_kick")
def test_work_waits_until_an_agent_comes_online_and_every_assignment_is_announced(
    db: Database, desk: dict[str, int]
) -> None:
    assert tx(db, lambda s: routing.enqueue(s, ticket("T-1"))) is None
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-1")
    assert work is not None and work.state == "queued" and work.group_key == "tier1-general"
    made = online(db, desk["a1"])
    assert [(a.ref, a.user_id, a.group_key, a.reason) for a in made] == [("T-1", desk["a1"], "tier1-general", "freed")]
    assert outbox(db) == [
        {
            "kind": "ticket",
            "ref": "T-1",
            "user_id": desk["a1"],
            "group_key": "tier1-general",
            "reason": "freed",
            "by_user_id": None,
            "from_user_id": None,
            "note": "",
        }
    ]
    # The same work sent again changes nothing.
    again = tx(db, lambda s: routing.enqueue(s, ticket("T-1")))
    assert again is not None and again.user_id == desk["a1"]
    assert len(outbox(db)) == 1


def test_capacity_is_never_exceeded_and_release_hands_on_the_next(db: Database, desk: dict[str, int]) -> None:
    settings_of(db, desk["a1"], max_tickets=2)
    online(db, desk["a1"])
    results = [enqueue(db, ticket(r)) for r in ("T-1", "T-2", "T-3")]
    assert [r.user_id if r else None for r in results] == [desk["a1"], desk["a1"], None]
    with db.read() as uow:
        load = routing.profile(uow.session, desk["a1"])
    assert load is not None and (load.tickets, load.max_tickets) == (2, 2)
    handed = tx(db, lambda s: routing.release(s, "ticket", "T-1"))
    assert [(a.ref, a.user_id) for a in handed] == [("T-3", desk["a1"])]
    assert tx(db, lambda s: routing.release(s, "ticket", "T-1")) == []  # already done
    assert tx(db, lambda s: routing.release(s, "ticket", "nope")) == []
    # A reopened ticket queues again as new work.
    assert tx(db, lambda s: routing.enqueue(s, ticket("T-1"))) is None
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-1")
    assert work is not None and work.state == "queued"


def test_least_loaded_then_fair_rotation_between_two_agents(db: Database, desk: dict[str, int]) -> None:
    online(db, desk["a1"])
    online(db, desk["a2"])
    got = [enqueue(db, ticket(f"T-{i}")) for i in range(6)]
    users = [a.user_id for a in got if a is not None]
    assert sorted(users) == sorted([desk["a1"]] * 3 + [desk["a2"]] * 3)
    # Chats have their own capacity: a chat goes to whoever has the fewest chats.
    chat = tx(db, lambda s: routing.enqueue(s, RoutableWork("chat", "42")))
    assert chat is not None and chat.user_id in (desk["a1"], desk["a2"])


def test_vip_and_high_value_move_up_the_queue(db: Database, desk: dict[str, int]) -> None:
    settings_of(db, desk["a1"], max_tickets=1)
    online(db, desk["a1"])
    tx(db, lambda s: routing.enqueue(s, ticket("T-busy")))
    tx(db, lambda s: routing.enqueue(s, ticket("T-old")))
    tx(db, lambda s: routing.enqueue(s, ticket("T-rich", order_value=Decimal("2899.00"))))
    tx(db, lambda s: routing.enqueue(s, ticket("T-urgent", priority="urgent")))
    order = []
    for done in ("T-busy", "T-urgent", "T-rich"):
        order += [a.ref for a in release(db, done)]
    assert order == ["T-urgent", "T-rich", "T-old"]


def test_skills_are_respected(db: Database, desk: dict[str, int]) -> None:
    settings_of(db, desk["a1"], skills=["zh"])
    online(db, desk["a1"])
    assert tx(db, lambda s: routing.enqueue(s, ticket("T-en", required_skills=["en"]))) is None
    online(db, desk["a2"])  # has en by default: pulls it
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-en")
    assert work is not None and work.assigned_to == desk["a2"]
    with pytest.raises(Invalid, match="not valid"):
        tx(db, lambda s: routing.enqueue(s, ticket("T-x", required_skills=["Bad Skill"])))
    with pytest.raises(Invalid, match="ticket or chat"):
        tx(db, lambda s: routing.enqueue(s, RoutableWork("email", "1")))
    with pytest.raises(Invalid, match="no routing group"):
        tx(db, lambda s: routing.enqueue(s, ticket("T-y", group_key="nowhere")))


def test_a_pop_merchants_question_goes_to_its_queue_then_escalates_to_the_platform(
    db: Database, desk: dict[str, int]
) -> None:
    pop_a = orders.merchant_id_for(db, "pop-a")
    pop_b = orders.merchant_id_for(db, "pop-b")
    online(db, desk["shop"])
    first = tx(db, lambda s: routing.enqueue(s, ticket("T-pop", merchant_id=pop_a, problem_type="return")))
    assert first is not None and (first.user_id, first.group_key) == (desk["shop"], "merchant-pop-a")
    # pop-b has no service staff: the platform answers by problem type.
    assert tx(db, lambda s: routing.enqueue(s, ticket("T-popb", merchant_id=pop_b, problem_type="return"))) is None
    with db.read() as uow:
        work_b = routing.work_for(uow.session, "ticket", "T-popb")
        assert routing.escalation_group(uow.session, "ticket", "T-pop") == "tier2-disputes"
    assert work_b is not None and work_b.group_key == "tier1-returns"
    online(db, desk["b1"])
    moved = tx(db, lambda s: routing.escalate(s, "ticket", "T-pop", "buyer asks the platform to step in", desk["shop"]))
    assert moved.assignment is not None and (moved.assignment.user_id, moved.group_key, moved.assignment.reason) == (
        desk["b1"],
        "tier2-disputes",
        "escalate",
    )
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-pop")
        assert routing.escalation_group(uow.session, "ticket", "T-pop") is None
    assert work is not None
    [step] = work.transfers
    assert (step.move, step.from_user_id, step.to_user_id) == ("escalate", desk["shop"], desk["b1"])
    assert (step.from_group, step.to_group, step.reason) == (
        "merchant-pop-a",
        "tier2-disputes",
        "buyer asks the platform to step in",
    )
    with pytest.raises(Conflict, match="no escalation group"):
        tx(db, lambda s: routing.escalate(s, "ticket", "T-pop", "again", desk["b1"]))


def test_transfer_keeps_a_reason_and_never_hands_straight_back(db: Database, desk: dict[str, int]) -> None:
    online(db, desk["a1"])
    assert tx(db, lambda s: routing.enqueue(s, ticket("T-1"))).user_id == desk["a1"]
    with pytest.raises(Invalid, match="reason"):
        tx(db, lambda s: routing.transfer(s, "ticket", "T-1", to_group="tier1-returns", reason=" ", by_user_id=1))
    with pytest.raises(Invalid, match="Choose an agent or a group"):
        tx(db, lambda s: routing.transfer(s, "ticket", "T-1", reason="why", by_user_id=1))
    # a1 is in tier1-returns too, but a transfer means someone else: it waits for a2.
    waited = tx(
        db,
        lambda s: routing.transfer(
            s, "ticket", "T-1", to_group="tier1-returns", reason="refund question", by_user_id=desk["a1"]
        ),
    )
    assert waited.assignment is None and waited.group_key == "tier1-returns"
    [taken] = online(db, desk["a2"])
    assert (taken.ref, taken.user_id, taken.group_key) == ("T-1", desk["a2"], "tier1-returns")
    with pytest.raises(Conflict, match="offline"):
        tx(db, lambda s: routing.transfer(s, "ticket", "T-1", to_user_id=desk["b1"], reason="x", by_user_id=desk["a2"]))
    direct = tx(
        db,
        lambda s: routing.transfer(
            s, "ticket", "T-1", to_user_id=desk["a1"], reason="knows the buyer", by_user_id=desk["a2"]
        ),
    )
    assert direct.assignment is not None and direct.assignment.user_id == desk["a1"]
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-1")
    assert work is not None and [t.reason for t in work.transfers] == ["refund question", "knows the buyer"]
    with pytest.raises(NotFound):
        tx(db, lambda s: routing.transfer(s, "ticket", "T-9", to_group="tier1-returns", reason="x", by_user_id=1))


def test_reassign_respects_status_and_capacity(db: Database, desk: dict[str, int]) -> None:
    settings_of(db, desk["a2"], max_tickets=1)
    online(db, desk["a1"])
    tx(db, lambda s: routing.enqueue(s, ticket("T-1")))
    tx(db, lambda s: routing.enqueue(s, ticket("T-2")))
    with pytest.raises(Conflict, match="offline; only online agents"):
        tx(db, lambda s: routing.reassign(s, "ticket", "T-1", desk["a2"], desk["sup"]))
    online(db, desk["a2"])  # pulls nothing: everything is assigned
    done = tx(db, lambda s: routing.reassign(s, "ticket", "T-1", desk["a2"], desk["sup"]))
    assert done.user_id == desk["a2"] and done.reason == "reassign"
    with pytest.raises(Conflict, match="full: 1 of 1 tickets"):
        tx(db, lambda s: routing.reassign(s, "ticket", "T-2", desk["a2"], desk["sup"]))
    with pytest.raises(Conflict, match="already with this agent"):
        tx(db, lambda s: routing.reassign(s, "ticket", "T-1", desk["a2"], desk["sup"]))
    tx(db, lambda s: routing.set_status(s, desk["a2"], AgentStatus.AWAY))
    with pytest.raises(Conflict, match="away"):
        tx(db, lambda s: routing.reassign(s, "ticket", "T-2", desk["a2"], desk["sup"]))
    tx(db, lambda s: routing.release(s, "ticket", "T-1"))
    with pytest.raises(Conflict, match="already finished"):
        tx(db, lambda s: routing.reassign(s, "ticket", "T-1", desk["a1"], desk["sup"]))
    with pytest.raises(NotFound, match="no routing profile"):
        tx(db, lambda s: routing.set_status(s, 999_999, AgentStatus.ONLINE))


def test_admin_settings_are_validated_and_guarded_by_version(db: Database, desk: dict[str, int]) -> None:
    with db.read() as uow:
        before = routing.profile(uow.session, desk["a1"])
    assert before is not None
    # Taking work and switching status leave the settings' version alone: an open form stays valid.
    online(db, desk["a1"])
    assert tx(db, lambda s: routing.enqueue(s, ticket("T-1"))) is not None
    settings_of(
        db, desk["a1"], max_chats=2, skills=["zh", "appliances"], groups=["cat-appliances"], version=before.version
    )
    with db.read() as uow:
        after = routing.profile(uow.session, desk["a1"])
    assert after is not None and after.version == before.version + 1
    assert (after.max_chats, after.skills, after.groups) == (2, ["zh", "appliances"], ["cat-appliances"])
    with pytest.raises(Conflict, match="reload"):
        settings_of(db, desk["a1"], max_chats=3, version=before.version)
    with pytest.raises(Invalid, match="between 0 and 50"):
        settings_of(db, desk["a1"], max_chats=99)
    with pytest.raises(Invalid, match="Unknown routing groups: nowhere"):
        settings_of(db, desk["a1"], groups=["nowhere"])


def test_more_capacity_pulls_waiting_work_at_once(db: Database, desk: dict[str, int]) -> None:
    settings_of(db, desk["a1"], max_tickets=0)
    online(db, desk["a1"])
    assert tx(db, lambda s: routing.enqueue(s, ticket("T-1"))) is None
    settings_of(db, desk["a1"], max_tickets=5)
    with db.read() as uow:
        work = routing.work_for(uow.session, "ticket", "T-1")
    assert work is not None and work.assigned_to == desk["a1"]


def test_the_status_switch_makes_a_profile_for_staff_without_one(db: Database, factory: Factory) -> None:
    routing.ensure_defaults(db)
    late = factory.user("late", Role.AGENT_T2)
    who = Principal(user_id=late.id, username="late", role=Role.AGENT_T2, display_name="Late")
    assert routing.change_status(db, who, AgentStatus.ONLINE) == []
    assert routing.my_profile(db, late.id).status == "online"
    customer = Principal(user_id=10**6, username="c", role=Role.CUSTOMER)
    with pytest.raises(Conflict, match="does not take routed work"):
        routing.change_status(db, customer, AgentStatus.ONLINE)


def test_concurrent_arrivals_never_overfill_an_agent(db: Database, desk: dict[str, int]) -> None:
    settings_of(db, desk["a1"], max_tickets=3)
    online(db, desk["a1"])
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def arrive(n: int) -> None:
        try:
            barrier.wait()
            tx(db, lambda s: routing.enqueue(s, ticket(f"T-{n}")))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=arrive, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.read() as uow:
        load = routing.profile(uow.session, desk["a1"])
        queues = {q.key: q for q in routing.queues_overview(uow.session)}
    assert load is not None and load.tickets == 3
    assert queues["tier1-general"].waiting == 5 and queues["tier1-general"].assigned == 3


@pytest.mark.usefixtures("no_outbox_kick")
def test_an_assignment_travels_once_to_whoever_needs_it(db: Database, desk: dict[str, int]) -> None:
    online(db, desk["a1"])
    placed = tx(db, lambda s: routing.enqueue(s, ticket("T-1")))
    # The caller receives the assignment as the call's result: routing does not announce it again.
    assert placed is not None and placed.user_id == desk["a1"]
    assert outbox(db) == []
    # Work an agent pulls when freed reaches the tickets context only through the outbox.
    settings_of(db, desk["a1"], max_tickets=1)
    tx(db, lambda s: routing.enqueue(s, ticket("T-2")))
    handed = tx(db, lambda s: routing.release(s, "ticket", "T-1"))
    assert [a.ref for a in handed] == ["T-2"] and outbox(db) == []  # the releasing caller mirrors it
    tx(db, lambda s: routing.enqueue(s, ticket("T-3")))
    moved = tx(
        db,
        lambda s: routing.transfer(
            s,
            "ticket",
            "T-2",
            to_user_id=None,
            to_group="tier1-general",
            reason="another agent, please",
            by_user_id=desk["a1"],
        ),
    )
    assert moved.assignment is None  # a2 is offline: T-2 waits; a1, freed, pulls T-3 on routing's own account
    assert [(m["ref"], m["reason"]) for m in outbox(db)] == [("T-3", "freed")]
