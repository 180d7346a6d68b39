"""Seeds the demo shop through the services: merchants, catalogue, customers, orders with their
revisions, shipments with logistics scans (some late, some out of stock), and one account per role."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from faker import Faker
from rich.console import Console
from rich.progress import Progress

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict
from aftersales.knowledge import service as knowledge
from aftersales.orders import service as shop
from aftersales.orders.domain import CustomerTier, LogisticsNode, MerchantKind, OrderStatus
from aftersales.orders.schemas import (
    AddressIn,
    CustomerIn,
    LogisticsEventIn,
    MerchantIn,
    OrderIn,
    OrderLineIn,
    PaymentIn,
    ProductIn,
    ShipmentIn,
    SkuIn,
)
from aftersales.rules import service as rules

from .cases import seed_cases
from .catalogue import (
    CARRIERS,
    CATEGORIES,
    CITIES,
    HUBS,
    MERCHANTS,
    PAY_METHODS,
    PRODUCTS,
    RETURN_ADDRESSES,
    RIDER_CITY,
    scan_places,
)
from .disputes import seed_disputes
from .history import History, OrderFacts
from .outreach import seed_outreach
from .round import todays_round
from .surveys import seed_surveys
from .tickets import seed_tickets
from .timing import settle_past

DEMO_PASSWORD = "demo1234"  # noqa: S105 - printed for people trying the demo
# role, username, password
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    ("customer", "customer", DEMO_PASSWORD),
    ("customer (English)", "emma", DEMO_PASSWORD),
    ("agent tier 1", "agent1", DEMO_PASSWORD),
    ("agent tier 1", "agent3", DEMO_PASSWORD),
    ("agent tier 2", "agent2", DEMO_PASSWORD),
    ("supervisor", "supervisor", DEMO_PASSWORD),
    ("merchant staff (贝贝母婴)", "merchant", DEMO_PASSWORD),
    ("merchant staff (Urban Style 服饰)", "merchant2", DEMO_PASSWORD),
    ("warehouse staff (自营)", "warehouse", DEMO_PASSWORD),
    ("rider", "rider", DEMO_PASSWORD),
    ("arbitrator", "arbitrator", DEMO_PASSWORD),
    ("admin", "admin", DEMO_PASSWORD),
]
SHOP_ZONE = ZoneInfo("Asia/Shanghai")  # the demo shop's promise is kept in its own city's time
# Named as the service it stands for: pages show it in each reader's language (templating.SERVICE_ACTORS).
SEEDER = Principal(user_id=0, username="demo-seed", role=Role.INTEGRATION, display_name="order system")
BATCH = 100


def seed_demo(db: Database, *, customers: int, orders: int, seed: int, console: Console) -> None:
    rng = random.Random(seed)
    Faker.seed(seed)
    fake_zh, fake_en = Faker("zh_CN"), Faker("en_US")
    now = clock.now()

    orders_service_setup(db)
    _ensure_user(db, "rider", Role.RIDER, "王师傅")
    people = _customers(customers, rng, fake_zh, fake_en)
    skus = [(m, c, name, code, Decimal(price)) for m, c, name, _b, sk in PRODUCTS for code, _s, price in sk]
    history = History(now=now)
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("seeding orders", total=orders)
        steps: list[OrderIn | LogisticsEventIn] = []
        for i in range(orders):
            customer = people[0] if i % 25 == 0 else people[1] if i % 31 == 0 else rng.choice(people)
            revisions, events = _order_story(i, customer, rng, skus, now)
            history.add(OrderFacts.of(revisions, events))
            steps.extend(sorted([*revisions, *events], key=_when))
            if (i + 1) % BATCH == 0 or i == orders - 1:
                shop.import_batch(db, steps, SEEDER)
                progress.update(task, completed=i + 1)
                steps = []
    # Today's round for the rider, whatever the hour (the 60 days may have delivered all of today's).
    shop.import_batch(db, todays_round(orders, people, now, SHOP_ZONE, seed), SEEDER)
    _accounts(db, people)
    seed_outreach(db)
    rules.load_defaults(db)
    knowledge.load_articles(db)
    # Each case and ticket is lived at its own moments, after the order events it speaks of.
    made = seed_cases(db, history, max(orders // 50, 5), rng)
    console.print(f"opened {made} after-sales cases")
    console.print(f"opened {seed_disputes(db, history)} disputes")
    console.print(f"opened {seed_tickets(db, history, rng)} tickets")
    console.print(f"{seed_surveys(db, history, rng)} satisfaction surveys answered")
    console.print(f"{settle_past(db, now)} older notices already read by their customers")


def orders_service_setup(db: Database) -> None:
    shop.ensure_categories(db, CATEGORIES)
    for code, name, kind in MERCHANTS:
        shop.upsert_merchant(
            db, MerchantIn(code=code, name=name, kind=MerchantKind(kind), return_address=RETURN_ADDRESSES[code])
        )
    for merchant, category, name, brand, skus in PRODUCTS:
        shop.upsert_product(
            db,
            ProductIn(
                merchant_code=merchant,
                category_code=category,
                name=name,
                brand=brand,
                tags=["custom_made"] if "定制" in name else [],
                skus=[SkuIn(code=c, spec=s, price=Decimal(p), stock=500) for c, s, p in skus],
            ),
        )


def _when(step: OrderIn | LogisticsEventIn) -> datetime:
    return step.updated_at if isinstance(step, OrderIn) else step.occurred_at


def _customers(count: int, rng: random.Random, fake_zh: Faker, fake_en: Faker) -> list[CustomerIn]:
    people = [
        CustomerIn(
            external_id="C0001", name="李娜", phone="13800138001", email="lina@example.com", tier=CustomerTier.VIP
        ),
        CustomerIn(external_id="C0002", name="Emma Wilson", phone="13900139002", email="emma@example.com"),
    ]
    for n in range(3, count + 1):
        english = rng.random() < 0.2
        fake = fake_en if english else fake_zh
        tier = rng.choices(list(CustomerTier), weights=[85, 12, 3])[0]
        people.append(
            CustomerIn(
                external_id=f"C{n:04d}",
                name=fake.name(),
                phone=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                email=f"user{n}@example.com",
                tier=tier,
            )
        )
    return people


def _order_story(
    i: int,
    customer: CustomerIn,
    rng: random.Random,
    skus: list[tuple[str, str, str, str, Decimal]],
    now: datetime,
) -> tuple[list[OrderIn], list[LogisticsEventIn]]:
    """The revisions the shop would have sent for one order, and its carrier scans."""
    merchant = rng.choices([m[0] for m in MERCHANTS], weights=[60, 20, 20])[0]
    candidates = [s for s in skus if s[0] == merchant]
    picked = rng.sample(candidates, k=min(len(candidates), rng.choice([1, 1, 1, 2, 2, 3])))
    placed = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
    age = now - placed
    # The self-operated warehouse is in Shanghai: more of the shop's customers live there.
    region, city = rng.choices(CITIES, weights=[5 if c == RIDER_CITY else 1 for _r, c in CITIES])[0]
    number = f"SO{placed:%y%m%d}{i:06d}"
    out_of_stock = age < timedelta(days=3) and rng.random() < 0.04
    lines = [
        OrderLineIn(
            line_no=n + 1,
            sku=code,
            quantity=rng.choice([1, 1, 1, 2, 3]),
            unit_price=price,
            out_of_stock=out_of_stock and n == 0,
        )
        for n, (_m, _c, _name, code, price) in enumerate(picked)
    ]
    goods = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    shipping = Decimal("0") if goods >= 99 else Decimal("8.00")
    discount = Decimal(rng.choice(["0", "0", "5", "10", "20"])) if goods > 100 else Decimal(0)
    base = dict(
        number=number,
        merchant_code=merchant,
        currency="CNY",
        placed_at=placed,
        customer=customer,
        shipping_address=AddressIn(
            name=customer.name,
            phone=customer.phone or "13800000000",
            region=region,
            detail=f"{rng.randrange(1, 300)}号 {rng.randrange(1, 30)}栋 {rng.randrange(101, 2999)}室",
        ),
        lines=lines,
        shipping_fee=shipping,
        discount_total=discount,
        tags=["first_order"] if i % 40 == 0 else [],
    )
    revisions = [OrderIn(version=1, updated_at=placed, status=OrderStatus.CREATED, **base)]
    if age < timedelta(minutes=20) and rng.random() < 0.5:
        return revisions, []
    if rng.random() < 0.03:
        revisions.append(
            OrderIn(version=2, updated_at=placed + timedelta(minutes=30), status=OrderStatus.CANCELLED, **base)
        )
        return revisions, []
    paid_at = placed + timedelta(minutes=rng.randrange(1, 15))
    payment = PaymentIn(
        reference=f"PAY{number}", method=rng.choice(PAY_METHODS), amount=goods + shipping - discount, paid_at=paid_at
    )
    with_pay = {**base, "paid_at": paid_at, "payments": [payment]}
    revisions.append(OrderIn(version=2, updated_at=paid_at, status=OrderStatus.PAID, **with_pay))
    # The platform's delivery promise (what help says): a Shanghai order of the self-operated shop
    # paid before the cut-off is due that evening. Packing and pickup take a share of that window.
    promised = shop.promised_delivery(merchant == "selfop", region, paid_at, SHOP_ZONE)
    window = promised - paid_at
    packed_at = paid_at + window * rng.uniform(0.05, 0.2)
    if packed_at > now or out_of_stock:
        return revisions, []
    revisions.append(OrderIn(version=3, updated_at=packed_at, status=OrderStatus.FULFILLING, **with_pay))
    carrier = "JD" if merchant == "selfop" else rng.choice(CARRIERS)
    tracking = f"{carrier}{rng.randrange(10**12):012d}"
    pickup = packed_at + window * rng.uniform(0.05, 0.15)
    rng.choice([1, 2, 2, 3])  # drawn as before the promise decided the day: the rest of the shop stays the same
    # Most parcels arrive before the promise; about one in eight is late or stuck on the way.
    late = rng.random() < 0.12
    total_hours = (
        (promised - pickup).total_seconds() / 3600 * (rng.uniform(1.1, 2.0) if late else rng.uniform(0.4, 0.95))
    )
    hub_origin, hub_dest = rng.choice(list(HUBS.values())), HUBS[city]
    steps = [
        (node, share, place)
        for (node, share), place in zip(
            [
                (LogisticsNode.PICKED_UP, 0.0),
                (LogisticsNode.DEPARTED_HUB, 0.2),
                (LogisticsNode.ARRIVED_HUB, 0.6),
                (LogisticsNode.ARRIVED_STATION, 0.8),
                (LogisticsNode.OUT_FOR_DELIVERY, 0.9),
                (LogisticsNode.DELIVERED, 1.0),
            ],
            scan_places(city, hub_origin, hub_dest, english=customer.name.isascii()),
            strict=True,
        )
    ]
    events = []
    for n, (node, share, place) in enumerate(steps):
        at = pickup + timedelta(hours=total_hours * share)
        if at > now:
            break
        events.append(
            LogisticsEventIn(
                event_id=f"{tracking}-{n}",
                carrier=carrier,
                tracking_number=tracking,
                node=node,
                occurred_at=at,
                place=place,
            )
        )
    # The self-operated shop's own rider delivers its parcels in its warehouse's city (one round,
    # one district); carriers deliver everywhere else.
    shipment = ShipmentIn(
        carrier=carrier,
        tracking_number=tracking,
        promised_at=promised,
        shipped_at=None,
        rider="rider" if merchant == "selfop" and city == RIDER_CITY else None,
    )
    with_ship = {**with_pay, "shipments": [shipment]}
    revisions.append(
        OrderIn(version=4, updated_at=packed_at + timedelta(minutes=5), status=OrderStatus.FULFILLING, **with_ship)
    )
    if events and events[-1].node is LogisticsNode.DELIVERED and now - events[-1].occurred_at > timedelta(days=7):
        done_at = events[-1].occurred_at + timedelta(days=7)
        revisions.append(OrderIn(version=5, updated_at=done_at, status=OrderStatus.COMPLETED, **with_ship))
    return revisions, events


def _ensure_user(
    db: Database, username: str, role: Role, name: str, customer_id: int | None = None, merchant_id: int | None = None
) -> int:
    try:
        return identity.create_user(
            db,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=name,
            locale="en" if username == "emma" else "zh-CN",
            customer_id=customer_id,
            merchant_id=merchant_id,
        ).id
    except Conflict:
        return next(u.id for u in identity.list_users(db) if u.username == username)


def _accounts(db: Database, people: list[CustomerIn]) -> None:
    _ensure_user(db, "customer", Role.CUSTOMER, "李娜", customer_id=shop.customer_id_for(db, "C0001"))
    emma = shop.customer_id_for(db, "C0002")
    _ensure_user(db, "emma", Role.CUSTOMER, "Emma Wilson", customer_id=emma)
    if emma is not None:  # her notices (inbox and email) in English, as her pages
        shop.set_contact_preferences(db, emma, locale="en", email_notices=True)
    _ensure_user(db, "agent1", Role.AGENT_T1, "张敏 (一线)")
    _ensure_user(db, "agent3", Role.AGENT_T1, "李静 (一线)")  # two on tier 1 share its queues
    _ensure_user(db, "agent2", Role.AGENT_T2, "陈刚 (二线)")
    _ensure_user(db, "supervisor", Role.SUPERVISOR, "刘洋 (主管)")
    _ensure_user(db, "merchant", Role.MERCHANT, "贝贝母婴 客服", merchant_id=shop.merchant_id_for(db, "pop-mama"))
    # Each POP merchant's service queue has its own staff (routing.ensure_defaults makes them members).
    _ensure_user(db, "merchant2", Role.MERCHANT, "Urban Style 客服", merchant_id=shop.merchant_id_for(db, "pop-style"))
    _ensure_user(db, "warehouse", Role.WAREHOUSE, "自营仓 华东", merchant_id=shop.merchant_id_for(db, "selfop"))
    _ensure_user(db, "arbitrator", Role.ARBITRATOR, "平台仲裁 周静")
    _ensure_user(db, "admin", Role.ADMIN, "系统管理员")
