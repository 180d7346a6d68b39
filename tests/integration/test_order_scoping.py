"""Who sees which order: every role searches and opens only the orders it may see."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import NotFound
from aftersales.kit.pagination import PageRequest
from aftersales.orders import service as orders
from aftersales.timeline.models import TimelineEvent

from ..factories import Factory
from .helpers import shipment

ALL = frozenset({"SO-A1", "SO-A2", "SO-B1", "SO-B2"})
# Who may see what, given the world below.
VISIBLE = {
    "customer_a": {"SO-A1", "SO-A2"},
    "customer_b": {"SO-B1", "SO-B2"},
    "merchant_x": {"SO-A2", "SO-B1"},  # pop-a
    "merchant_y": {"SO-B2"},  # pop-b
    "warehouse_selfop": {"SO-A1"},
    "rider_assigned": {"SO-B2"},
    "rider_idle": set(),
    "agent": set(ALL),
    "supervisor": set(ALL),
    "admin": set(ALL),
    "integration_x": {"SO-A2", "SO-B1"},
    "integration_platform": set(ALL),
}


@dataclass
class World:
    principals: dict[str, Principal]


@pytest.fixture
def world(factory: Factory, db: Database) -> World:
    """Orders of two customers at three merchants; one parcel assigned to a rider; one account per role."""
    factory.catalogue()
    rider = factory.user("rider-wang", Role.RIDER)
    factory.put_order(number="SO-A1", customer="CA", customer_name="张伟", phone="13800000001", merchant="selfop")
    factory.put_order(number="SO-A2", customer="CA", customer_name="张伟", phone="13800000001", merchant="pop-a")
    factory.put_order(number="SO-B1", customer="CB", customer_name="刘洋", phone="13800000002", merchant="pop-a")
    factory.put_order(
        number="SO-B2",
        customer="CB",
        customer_name="刘洋",
        phone="13800000002",
        merchant="pop-b",
        shipments=[shipment("SF-B2", rider="rider-wang")],
    )
    users = {
        "rider_assigned": rider,
        "customer_a": factory.customer_user("zhangwei", "CA"),
        "customer_b": factory.customer_user("liuyang", "CB"),
        "merchant_x": factory.merchant_user("shop-x", "pop-a"),
        "merchant_y": factory.merchant_user("shop-y", "pop-b"),
        "warehouse_selfop": factory.merchant_user("wh-selfop", "selfop", Role.WAREHOUSE),
        "rider_idle": factory.user("rider-zhao", Role.RIDER),
        "agent": factory.user("agent-1", Role.AGENT_T1),
        "supervisor": factory.user("sup-1", Role.SUPERVISOR),
        "admin": factory.user("admin-1", Role.ADMIN),
        "integration_x": factory.user("feed-x", Role.INTEGRATION, merchant_id=orders.merchant_id_for(db, "pop-a")),
        "integration_platform": factory.user("feed-all", Role.INTEGRATION),
    }
    principals: dict[str, Principal] = {}
    for key, user in users.items():
        principal = identity.principal_for_user_id(db, user.id)
        assert principal is not None
        principals[key] = principal
    assert set(principals) == set(VISIBLE)
    return World(principals)


def searched(db: Database, viewer: Principal, query: str = "", status: str | None = None) -> set[str]:
    page = orders.search_orders(db, viewer, query, PageRequest(size=100), status)
    numbers = {o.number for o in page.items}
    assert page.total == len(numbers)
    return numbers


def test_each_role_searches_only_the_orders_it_may_see(world: World, db: Database) -> None:
    seen = {key: searched(db, principal) for key, principal in world.principals.items()}
    assert seen == VISIBLE


def test_each_role_opens_only_the_orders_it_may_see_and_gets_not_found_for_the_rest(world: World, db: Database) -> None:
    for key, principal in world.principals.items():
        for number in sorted(ALL):
            if number in VISIBLE[key]:
                assert orders.get_order(db, number, principal).number == number, (key, number)
            else:
                with pytest.raises(NotFound, match=f"No order '{number}' that you can see"):
                    orders.get_order(db, number, principal)


def test_customer_a_never_finds_customer_b_by_number_phone_or_name(world: World, db: Database) -> None:
    customer_a = world.principals["customer_a"]
    for query in ("SO-B1", "SO-B", "13800000002", "刘洋"):
        assert searched(db, customer_a, query) == set(), query
    with pytest.raises(NotFound):
        orders.get_order(db, "SO-B2", customer_a)
    assert searched(db, world.principals["customer_b"], "13800000002") == {"SO-B1", "SO-B2"}


def test_merchant_x_never_finds_merchant_y_orders(world: World, db: Database) -> None:
    merchant_x = world.principals["merchant_x"]
    assert searched(db, merchant_x, "SO-B2") == set()
    assert searched(db, merchant_x, "刘洋") == {"SO-B1"}
    with pytest.raises(NotFound):
        orders.get_order(db, "SO-B2", merchant_x)
    with pytest.raises(NotFound):
        orders.get_order(db, "SO-B1", world.principals["merchant_y"])


def test_a_status_filter_stays_inside_the_scope(world: World, db: Database, factory: Factory) -> None:
    factory.put_order(
        number="SO-B1", version=2, status="fulfilling", customer="CB", customer_name="刘洋", merchant="pop-a"
    )
    assert searched(db, world.principals["admin"], status="fulfilling") == {"SO-B1"}
    assert searched(db, world.principals["merchant_x"], status="fulfilling") == {"SO-B1"}
    assert searched(db, world.principals["merchant_y"], status="fulfilling") == set()
    assert searched(db, world.principals["customer_a"], status="fulfilling") == set()


def test_accounts_without_their_binding_see_nothing(world: World, db: Database) -> None:
    unbound = [
        Principal(user_id=901, username="c", role=Role.CUSTOMER),
        Principal(user_id=902, username="m", role=Role.MERCHANT),
        Principal(user_id=903, username="w", role=Role.WAREHOUSE),
        Principal(user_id=904, username="r", role=Role.RIDER),
    ]
    for viewer in unbound:
        assert searched(db, viewer) == set(), viewer.role
        with pytest.raises(NotFound):
            orders.get_order(db, "SO-A1", viewer)


def test_search_pages_through_a_scoped_list(world: World, db: Database) -> None:
    admin = world.principals["admin"]
    first = orders.search_orders(db, admin, "", PageRequest(page=1, size=3))
    second = orders.search_orders(db, admin, "", PageRequest(page=2, size=3))
    assert (first.total, first.pages, first.has_next) == (4, 2, True)
    assert len(first.items) == 3
    assert len(second.items) == 1
    assert {o.number for o in first.items + second.items} == ALL


def test_customers_see_only_the_customer_visible_part_of_the_timeline(
    world: World, db: Database, factory: Factory
) -> None:
    factory.put_order(number="SO-A1", version=2, customer="CA", customer_name="张伟", merchant="selfop", status="paid")
    staff_view = orders.get_order(db, "SO-A1", world.principals["agent"]).timeline
    customer_view = orders.get_order(db, "SO-A1", world.principals["customer_a"]).timeline
    with db.read() as uow:
        hidden = set(uow.session.scalars(select(TimelineEvent.action).where(TimelineEvent.customer_visible.is_(False))))
    assert [e.action for e in customer_view] == [e.action for e in staff_view if e.action not in hidden]
    assert customer_view[0].action == "order.created"
