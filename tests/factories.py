"""Builders for test data, going through the real services."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.identity.schemas import UserOut
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.domain import MerchantKind
from aftersales.orders.schemas import MerchantIn, OrderIn, ProductIn, SkuIn, UpsertResult

PASSWORD = "password-123"
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
FEED = Principal(user_id=0, username="feed", role=Role.INTEGRATION, display_name="order feed")


class Factory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def catalogue(self) -> None:
        """Three merchants (one self-operated, two POP), categories, one product each."""
        orders.ensure_categories(
            self.db, [("electronics", "数码电子", "Electronics"), ("baby_maternal", "母婴", "Baby and maternal")]
        )
        for code, kind in (
            ("selfop", MerchantKind.SELF_OPERATED),
            ("pop-a", MerchantKind.POP),
            ("pop-b", MerchantKind.POP),
        ):
            orders.upsert_merchant(self.db, MerchantIn(code=code, name=f"Merchant {code}", kind=kind))
            orders.upsert_product(
                self.db,
                ProductIn(
                    merchant_code=code,
                    category_code="electronics" if code != "pop-b" else "baby_maternal",
                    name=f"Headphones {code}",
                    skus=[
                        SkuIn(code="SKU-1", price=Decimal("199.00"), stock=10),
                        SkuIn(code="SKU-2", price=Decimal("59.90"), stock=10),
                    ],
                ),
            )

    def user(self, username: str, role: Role, **binding: Any) -> UserOut:
        return identity.create_user(self.db, username=username, password=PASSWORD, role=role, **binding)

    def customer_user(self, username: str, external_id: str) -> UserOut:
        customer_id = orders.customer_id_for(self.db, external_id)
        assert customer_id is not None, f"customer {external_id} must exist (send an order first)"
        return self.user(username, Role.CUSTOMER, customer_id=customer_id)

    def merchant_user(self, username: str, merchant_code: str, role: Role = Role.MERCHANT) -> UserOut:
        return self.user(username, role, merchant_id=orders.merchant_id_for(self.db, merchant_code))

    def token(self, username: str) -> str:
        return identity.create_token(self.db, username).token

    @staticmethod
    def order_payload(
        number: str = "SO-1",
        *,
        merchant: str = "selfop",
        customer: str = "C1",
        customer_name: str = "李娜",
        phone: str = "13800138000",
        version: int = 1,
        status: str = "paid",
        updated_at: datetime | None = None,
        lines: list[dict[str, Any]] | None = None,
        shipments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        updated = updated_at or T0 + timedelta(minutes=version)
        return {
            "number": number,
            "version": version,
            "updated_at": updated.isoformat(),
            "merchant_code": merchant,
            "status": status,
            "currency": "CNY",
            "placed_at": T0.isoformat(),
            "paid_at": (T0 + timedelta(minutes=1)).isoformat() if status != "created" else None,
            "customer": {"external_id": customer, "name": customer_name, "phone": phone},
            "shipping_address": {
                "name": customer_name,
                "phone": phone,
                "region": "上海市 浦东新区",
                "detail": "世纪大道 100 号",
            },
            "lines": lines or [{"line_no": 1, "sku": "SKU-1", "quantity": 2, "unit_price": "199.00"}],
            "shipping_fee": "0.00",
            "payments": [],
            "shipments": shipments or [],
        }

    def put_order(self, **kwargs: Any) -> UpsertResult:
        return orders.upsert_order(self.db, OrderIn.model_validate(self.order_payload(**kwargs)), FEED)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form, CSRF token included."""
    page = client.get("/login")
    token = csrf_from(page.text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)
