"""Reference data of the orders context: merchants, categories, products and SKUs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal
from aftersales.kit.errors import Conflict, Forbidden
from aftersales.orders.models import Category, Merchant, Product, Sku
from aftersales.orders.repository import OrdersRepository
from aftersales.orders.schemas import CategoryIn, MerchantIn, ProductIn


def upsert_merchant(db: Database, data: MerchantIn, by: Principal = SYSTEM) -> Merchant:
    if by.role.value == "integration" and by.merchant_id is not None:
        raise Forbidden("A token bound to one merchant cannot register or change merchants.")
    with db.write() as uow:
        repo = OrdersRepository(uow.session)
        merchant = repo.merchant_by_code(data.code)
        if merchant is None:
            merchant = Merchant(code=data.code, credit_score=100, created_at=clock.now())
            repo.add(merchant)
        merchant.name = data.name
        merchant.kind = data.kind.value
        if data.return_address is not None:
            merchant.return_address = data.return_address.strip()
        uow.commit()
        return merchant


def return_address(session: Session, merchant_id: int) -> str:
    """Where the merchant's returns are sent ("" when it has not said)."""
    merchant = OrdersRepository(session).merchant(merchant_id)
    return merchant.return_address if merchant else ""


def ensure_category(session: Session, code: str, name_zh: str, name_en: str) -> Category:
    repo = OrdersRepository(session)
    category = repo.category_by_code(code)
    if category is None:
        category = Category(code=code, name_zh=name_zh, name_en=name_en)
        repo.add(category)
        session.flush()
    return category


def upsert_category(db: Database, data: CategoryIn) -> Category:
    with db.write() as uow:
        category = ensure_category(uow.session, data.code, data.name_zh, data.name_en)
        category.name_zh, category.name_en = data.name_zh, data.name_en
        uow.commit()
        return category


def upsert_product(db: Database, data: ProductIn, by: Principal = SYSTEM) -> tuple[Product, list[str]]:
    with db.write() as uow:
        repo = OrdersRepository(uow.session)
        merchant = _merchant_or_409(repo, data.merchant_code)
        _check_feeds_merchant(by, merchant)
        category = repo.category_by_code(data.category_code)
        if category is None:
            known = ", ".join(c.code for c in repo.categories()) or "none yet"
            raise Conflict(f"Category '{data.category_code}' does not exist. Known categories: {known}.")
        product = repo.product_by_name(merchant.id, data.name)
        if product is None:
            product = Product(merchant_id=merchant.id, name=data.name)
            repo.add(product)
        product.category_id = category.id
        product.brand = data.brand
        product.tags = list(data.tags)
        uow.session.flush()
        existing = repo.skus_by_code(merchant.id, [s.code for s in data.skus])
        for sku_in in data.skus:
            sku = existing.get(sku_in.code)
            if sku is None:
                sku = Sku(merchant_id=merchant.id, code=sku_in.code)
                repo.add(sku)
            elif sku.product_id != product.id:
                raise Conflict(f"SKU '{sku_in.code}' already belongs to another product of this merchant.")
            # Field by field on purpose, like the order's upsert in service.py: the SKU's own columns.
            sku.product_id = product.id
            sku.spec = sku_in.spec
            sku.price = sku_in.price
            sku.currency = sku_in.currency
            sku.stock = sku_in.stock
        uow.commit()
        return product, [s.code for s in data.skus]


def _check_feeds_merchant(by: Principal, merchant: Merchant) -> None:
    """An integration token bound to one merchant writes only that merchant's data."""
    if by.role.value == "integration" and by.merchant_id is not None and by.merchant_id != merchant.id:
        raise Forbidden(f"This token feeds merchant #{by.merchant_id} only, not '{merchant.code}'.")


def _merchant_or_409(repo: OrdersRepository, code: str) -> Merchant:
    merchant = repo.merchant_by_code(code)
    if merchant is None:
        raise Conflict(f"Merchant '{code}' is not registered. Create it first with PUT /api/v1/merchants/{code}.")
    return merchant


def list_merchants(db: Database) -> list[Merchant]:
    with db.read() as uow:
        return OrdersRepository(uow.session).merchants()


def ensure_categories(db: Database, categories: list[tuple[str, str, str]]) -> None:
    """Create categories given as (code, Chinese name, English name) if they are missing."""
    with db.write() as uow:
        for code, name_zh, name_en in categories:
            ensure_category(uow.session, code, name_zh, name_en)
        uow.commit()
