"""Use cases of the integrations context: importing shop platforms' order payloads (CLI and
webhooks), the integrations themselves with their sealed secrets, and replaying a failed delivery."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from aftersales.db.uow import Database
from aftersales.integrations import domain
from aftersales.integrations.domain import DeliveryResult, Platform
from aftersales.integrations.fetch import FetchError, OrderFetcher, bigcommerce_order
from aftersales.integrations.formats import READERS
from aftersales.integrations.formats.common import (
    Context,
    MappedOrder,
    MappedRefunds,
    MappingError,
    OrderCallback,
    load_json,
)
from aftersales.integrations.models import Integration, WebhookDelivery
from aftersales.integrations.repository import IntegrationsRepository
from aftersales.integrations.schemas import (
    DeliveryOut,
    ImportLine,
    IntegrationCreated,
    IntegrationIn,
    IntegrationOut,
    WebhookAnswer,
)
from aftersales.kit import clock, sealing
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Conflict, Invalid, NotFound, Unauthorized
from aftersales.orders import service as orders
from aftersales.orders.schemas import OrderIn, OrderRefundsIn


class ImportRefused(Invalid):
    """A payload that changes nothing, with the payload's field to look at."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Source:
    platform: Platform
    merchant_code: str
    zone: tzinfo
    number_prefix: str = ""
    # For a callback that names only an order id: where and how to fetch it (None: cannot fetch).
    fetch: OrderFetcher | None = None
    api_base_url: str = ""
    api_token: str = ""


def feeder(merchant_id: int, name: str) -> Principal:
    """Who an import acts as: an integration bound to the merchant (it writes that merchant only)."""
    return Principal(user_id=0, username=name, role=Role.INTEGRATION, display_name=name, merchant_id=merchant_id)


# --- importing a payload ----------------------------------------------------------------------------
def import_payload(db: Database, source: Source, raw: bytes, by: Principal) -> list[ImportLine]:
    """One payload as the platform sends it (a webhook body or a REST answer, one order or a list):
    every order in it, or none (ImportRefused names the field; nothing is changed)."""
    ctx = Context(source.merchant_code, zone=source.zone, number_prefix=source.number_prefix)
    try:
        mapped = READERS[source.platform.value](load_json(raw), ctx)
    except MappingError as exc:
        raise ImportRefused(exc.field, exc.problem) from exc
    if not mapped:
        raise ImportRefused("body", "holds no order")
    steps: list[OrderIn | OrderRefundsIn] = []
    known: list[ImportLine] = []
    for item in mapped:
        if isinstance(item, MappedOrder):
            steps.append(item.order)
        elif isinstance(item, MappedRefunds):
            steps.append(
                OrderRefundsIn(merchant_code=source.merchant_code, external_ref=item.external_ref, refunds=item.refunds)
            )
        else:
            fetched = _fetch(db, source, item)
            if isinstance(fetched, ImportLine):
                known.append(fetched)
            else:
                steps.append(fetched)
    if not steps:
        return known
    try:
        results = orders.import_orders(db, steps, by)
    except NotFound as exc:
        raise ImportRefused("order_id", exc.message) from exc
    except AppError as exc:
        raise ImportRefused("order", exc.message) from exc
    return known + [ImportLine(order_number=r.number, status=r.status, result=r.result) for r in results]


def _fetch(db: Database, source: Source, callback: OrderCallback) -> OrderIn | ImportLine:
    if source.fetch is None or not source.api_base_url:
        summary = orders.order_by_external_ref(db, source.merchant_code, callback.external_ref)
        if summary is not None:
            return ImportLine(order_number=summary.number, status=summary.status, result="unchanged")
        raise ImportRefused(
            "data.id",
            f"the callback carries only the order's id ({callback.order_id}) and that order has not been imported; "
            "import the order itself (GET /v2/orders/{id} with its products) or let the webhook fetch it",
        )
    try:
        payload = source.fetch(source.api_base_url, source.api_token, callback.order_id)
        [mapped] = READERS[source.platform.value](
            payload, Context(source.merchant_code, zone=source.zone, number_prefix=source.number_prefix)
        )
    except FetchError as exc:
        raise ImportRefused("data.id", f"could not fetch order {callback.order_id}: {exc}") from exc
    except MappingError as exc:
        raise ImportRefused(f"fetched order {callback.order_id} → {exc.field}", exc.problem) from exc
    except ValueError as exc:
        raise ImportRefused("data.id", f"order {callback.order_id} answered more than one order") from exc
    if not isinstance(mapped, MappedOrder):
        raise ImportRefused("data.id", f"order {callback.order_id} answered something that is not an order")
    return mapped.order


# --- integrations -----------------------------------------------------------------------------------
def create_integration(db: Database, key: bytes, data: IntegrationIn, by: Principal) -> IntegrationCreated:
    merchant_id = orders.merchant_id_for(db, data.merchant_code)
    if merchant_id is None:
        raise Conflict(f"Merchant '{data.merchant_code}' is not registered.")
    secret = data.secret.strip() or secrets.token_urlsafe(32)
    with db.write() as uow:
        integration = Integration(
            platform=data.platform.value,
            merchant_id=merchant_id,
            name=data.name.strip(),
            secret_sealed=sealing.seal(secret, key, domain.SECRET_PURPOSE),
            secret_hint=domain.secret_hint(secret),
            api_base_url=data.api_base_url.rstrip("/"),
            api_token_sealed=sealing.seal(data.api_token, key, domain.TOKEN_PURPOSE) if data.api_token else "",
            zone=data.zone,
            number_prefix=data.number_prefix,
            active=True,
            created_by=by.username,
            created_at=clock.now(),
        )
        uow.session.add(integration)
        uow.session.flush()
        created = IntegrationCreated(
            id=integration.id,
            platform=integration.platform,
            merchant_code=data.merchant_code,
            webhook_url=f"/api/v1/integrations/{integration.platform}/{integration.id}/orders",
            secret=secret,
        )
        uow.commit()
    return created


def list_integrations(db: Database, failures: int = 5) -> list[IntegrationOut]:
    merchants = {m.id: m.code for m in orders.list_merchants(db)}
    with db.read() as uow:
        repo = IntegrationsRepository(uow.session)
        out = []
        for i in repo.integrations():
            last = repo.recent_deliveries(i.id, 1)
            out.append(
                IntegrationOut(
                    id=i.id,
                    platform=i.platform,
                    merchant_code=merchants.get(i.merchant_id, "?"),
                    name=i.name,
                    secret_hint=i.secret_hint,
                    api_base_url=i.api_base_url,
                    zone=i.zone,
                    number_prefix=i.number_prefix,
                    active=i.active,
                    created_at=i.created_at,
                    last_delivery=_delivery_out(last[0]) if last else None,
                    failures=[_delivery_out(d) for d in repo.recent_deliveries(i.id, failures, failed_only=True)],
                )
            )
        return out


def _delivery_out(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        event_id=d.event_id,
        topic=d.topic,
        result=DeliveryResult(d.result),
        order_numbers=d.order_numbers,
        error=d.error,
        attempts=d.attempts,
        received_at=d.received_at,
    )


# --- webhooks ---------------------------------------------------------------------------------------
def receive_webhook(
    db: Database,
    key: bytes,
    platform_name: str,
    integration_id: int,
    headers: Mapping[str, str],
    body: bytes,
    fetch: OrderFetcher = bigcommerce_order,
) -> WebhookAnswer:
    """A platform's webhook: 401 unless signed with the integration's secret (nothing recorded);
    a known event id answers "duplicate" and changes nothing; otherwise the orders it carries are
    imported and the delivery recorded, failed ones with their reason and body for a replay."""
    if len(body) > domain.MAX_BODY_BYTES:
        raise Invalid(f"The body is larger than {domain.MAX_BODY_BYTES} bytes.")
    lowered = {k.lower(): v for k, v in headers.items()}
    with db.read() as uow:
        integration = IntegrationsRepository(uow.session).integration(integration_id)
        if integration is None or integration.platform != platform_name or not integration.active:
            # Said like a wrong signature: a stranger learns nothing of which integrations exist.
            raise Unauthorized(f"Refused: no active {platform_name[:32]} integration #{integration_id} signed this.")
        platform = Platform(integration.platform)
        if domain.is_ping(platform, lowered, body):
            return WebhookAnswer(event_id="", result="ping")
        secret = _unseal(integration.secret_sealed, key, domain.SECRET_PURPOSE)
        verdict = domain.verify(platform, secret, lowered, body, clock.now())
        if not verdict.ok:
            raise Unauthorized(f"Refused: {verdict.reason}.")
        event = domain.event_id(platform, lowered, body, _body_hash(platform, body))
        if IntegrationsRepository(uow.session).delivery_by_event(integration_id, event) is not None:
            return WebhookAnswer(event_id=event, result="duplicate")
        settings = _Settings.of(integration)
    source = _source(db, settings, key, fetch)
    name = f"{platform.value} integration #{integration_id}"
    received = clock.now()
    lines, error = _run(db, source, body, feeder(settings.merchant_id, name))
    result = _overall(lines, error)
    with db.write() as uow:
        uow.session.add(
            WebhookDelivery(
                integration_id=integration_id,
                event_id=event,
                topic=domain.topic(platform, lowered),
                result=result.value,
                order_numbers=", ".join(line.order_number for line in lines)[:400],
                error=_storable(error),
                body=_storable(body.decode("utf-8", errors="replace")),
                attempts=1,
                received_at=received,
                processed_at=clock.now(),
            )
        )
        try:
            uow.commit()
        except IntegrityError:
            return WebhookAnswer(event_id=event, result="duplicate")  # the same event, delivered twice at once
    if error:
        raise ImportRefused("body", f"{error} (delivery kept; an administrator can replay it)")
    return WebhookAnswer(event_id=event, result=result.value, orders=lines)


def replay(db: Database, key: bytes, delivery_id: int, fetch: OrderFetcher = bigcommerce_order) -> DeliveryOut:
    """Run a failed delivery again, as it arrived (its signature was checked when it did)."""
    with db.read() as uow:
        repo = IntegrationsRepository(uow.session)
        delivery = repo.delivery(delivery_id)
        integration = repo.integration(delivery.integration_id) if delivery else None
        if delivery is None or integration is None:
            raise NotFound(f"No delivery #{delivery_id}.")
        if delivery.result != DeliveryResult.FAILED.value:
            raise Conflict(f"Delivery #{delivery_id} did not fail ({delivery.result}); there is nothing to replay.")
        settings = _Settings.of(integration)
        body = delivery.body.encode()
    by = feeder(settings.merchant_id, f"{settings.platform} integration #{settings.id} (replay)")
    lines, error = _run(db, _source(db, settings, key, fetch), body, by)
    with db.write() as uow:
        stored = IntegrationsRepository(uow.session).delivery(delivery_id)
        assert stored is not None
        stored.attempts += 1
        stored.result = _overall(lines, error).value
        stored.error = _storable(error)
        stored.order_numbers = ", ".join(line.order_number for line in lines)[:400]
        stored.processed_at = clock.now()
        out = _delivery_out(stored)
        uow.commit()
    return out


def _run(db: Database, source: Source, body: bytes, by: Principal) -> tuple[list[ImportLine], str]:
    try:
        return import_payload(db, source, body, by), ""
    except ImportRefused as exc:
        return [], exc.message
    except AppError as exc:
        return [], exc.message


def _storable(text: str) -> str:
    """PostgreSQL text holds no NUL character; a hostile payload may carry one."""
    return text.replace("\x00", "\ufffd")


def _overall(lines: list[ImportLine], error: str) -> DeliveryResult:
    if error:
        return DeliveryResult.FAILED
    results = {line.result for line in lines}
    for candidate in (DeliveryResult.CREATED, DeliveryResult.UPDATED):
        if candidate.value in results:
            return candidate
    return DeliveryResult.UNCHANGED


def _body_hash(platform: Platform, body: bytes) -> str:
    """BigCommerce's callback carries its own hash of the event."""
    if platform is not Platform.BIGCOMMERCE:
        return ""
    try:
        data = load_json(body)
    except MappingError:
        return ""
    value = data.get("hash") if isinstance(data, dict) else None
    return value[:100] if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class _Settings:
    """An integration's settings, read inside a unit of work and used after it."""

    id: int
    platform: str
    merchant_id: int
    zone: str
    number_prefix: str
    api_base_url: str
    api_token_sealed: str

    @classmethod
    def of(cls, i: Integration) -> _Settings:
        return cls(i.id, i.platform, i.merchant_id, i.zone, i.number_prefix, i.api_base_url, i.api_token_sealed)


def _source(db: Database, settings: _Settings, key: bytes, fetch: OrderFetcher) -> Source:
    sealed = settings.api_token_sealed
    token = _unseal(sealed, key, domain.TOKEN_PURPOSE) if sealed else ""
    merchant = next((m.code for m in orders.list_merchants(db) if m.id == settings.merchant_id), "")
    return Source(
        platform=Platform(settings.platform),
        merchant_code=merchant,
        zone=ZoneInfo(settings.zone),
        number_prefix=settings.number_prefix,
        fetch=fetch,
        api_base_url=settings.api_base_url,
        api_token=token,
    )


def _unseal(sealed: str, key: bytes, purpose: str) -> str:
    try:
        return sealing.unseal(sealed, key, purpose)
    except sealing.SealError as exc:
        raise Conflict(
            "The integration's secret cannot be read (the install's secret key changed); create the integration again."
        ) from exc
