"""Use cases of the proactive context: the scan that finds incidents, the notice that tells the
customer with the answer, the ticket when a person must act, and the reads for pages.

`scan(db, now)` is the worker's periodic task and the CLI's `aftersales proactive scan`:
1. intake: follow the orders' timeline and the carriers' scans from where the last run stopped
   (cursors by row id) and mark the orders they touch due now;
2. check: read only the watches whose next check has come (indexed; SKIP LOCKED on PostgreSQL),
   run the detectors, store one incident per episode, resolve what is over, and keep the next
   moment anything could fire as the watch's next check;
3. tell: open a ticket when a person must act (on the order's open ticket if it has one), then
   notify the customer in their language, once per incident (the notice's key is the episode).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
import yaml
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.clock import ensure_utc
from aftersales.kit.errors import NotFound
from aftersales.kit.topics import PREPARED_NOTICE
from aftersales.kit.vocabulary import MessageClass
from aftersales.messaging import scans
from aftersales.notifications import service as notifications
from aftersales.orders import service as orders
from aftersales.proactive import domain, wording
from aftersales.proactive.domain import DetectorRules, Finding, IncidentKind, IncidentState
from aftersales.proactive.models import Cursor, Incident, Watch
from aftersales.proactive.repository import ProactiveRepository
from aftersales.proactive.schemas import IncidentOut, NoticeView, ScanResult
from aftersales.sla import service as sla
from aftersales.tickets import service as tickets
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SYSTEM_ACTOR, Entry, SubjectType

log = structlog.get_logger(__name__)
RULES_PATH = Path(__file__).parent / "data" / "detectors.yaml"
SCAN = "proactive_watches"
INTAKE_BATCH = 1000
TIMELINE_CURSOR = "timeline"
# A notice not written this long after its incident was found is no longer news: it expires.
NOTICE_TTL = timedelta(hours=24)
SCANS_CURSOR = "logistics"


# --- rules as data -------------------------------------------------------------------------------
@functools.cache
def rules_table(path: Path = RULES_PATH) -> tuple[DetectorRules, dict[str, DetectorRules]]:
    """(defaults, per merchant code) from detectors.yaml; a broken file is a loud error at start."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    base = domain.rules_from_mapping(dict(data.get("defaults") or {}))
    merchants = {
        str(code): domain.rules_from_mapping(dict(v or {}), base) for code, v in (data.get("merchants") or {}).items()
    }
    return base, merchants


def rules_for(merchant_code: str) -> DetectorRules:
    base, merchants = rules_table()
    return merchants.get(merchant_code, base)


# --- facts --------------------------------------------------------------------------------------
def _fact(seen: orders.OrderSeen, changed_at: datetime | None) -> domain.OrderFact:
    return domain.OrderFact(
        order_id=seen.order_id,
        number=seen.number,
        customer_id=seen.customer_id,
        merchant_code=seen.merchant_code,
        status=seen.status,
        paid_at=seen.paid_at,
        international=seen.international,
        parcels=tuple(
            domain.ParcelFact(
                shipment_id=p.shipment_id,
                tracking_number=p.tracking_number,
                status=p.status,
                promised_at=p.promised_at,
                shipped_at=p.shipped_at,
                last_event_at=p.last_event_at,
                latest=domain.ScanFact(
                    p.latest.event_row_id, p.latest.node, p.latest.occurred_at, p.latest.place, p.latest.description
                )
                if p.latest
                else None,
            )
            for p in seen.parcels
        ),
        out_of_stock_lines=seen.out_of_stock_lines,
        changed_at=changed_at,
    )


# --- 1. intake -----------------------------------------------------------------------------------
def _cursor(session: Session, repo: ProactiveRepository, name: str, now: datetime, skip_locked: bool) -> Cursor | None:
    if not repo.cursor_exists(name):
        try:
            with session.begin_nested():
                session.add(Cursor(name=name, last_id=0, updated_at=now))
        except IntegrityError:
            pass  # another worker made it first
    return repo.cursor(name, skip_locked=skip_locked)


def _touch(session: Session, repo: ProactiveRepository, touched: dict[int, datetime], now: datetime) -> None:
    """The orders a change touched are due now (their state may have changed what fires)."""
    known = repo.watches_of(touched)
    for order_id, at in touched.items():
        watch = known.get(order_id)
        if watch is None:
            session.add(Watch(order_id=order_id, next_check_at=now, changed_at=at, failures=0))
            continue
        watch.next_check_at = now if watch.next_check_at is None else min(watch.next_check_at, now)
        watch.changed_at = max(watch.changed_at or at, at)


def intake(db: Database, now: datetime) -> int:
    """Mark due every order the timeline or a carrier scan touched since the last run. One worker
    at a time (the cursor row is locked; others skip it on PostgreSQL). Returns the orders touched."""
    total = 0
    while True:
        with db.write() as uow:
            session, repo = uow.session, ProactiveRepository(uow.session)
            marks = _cursor(session, repo, TIMELINE_CURSOR, now, not db.is_sqlite)
            parcels = _cursor(session, repo, SCANS_CURSOR, now, not db.is_sqlite)
            if marks is None or parcels is None:
                return total
            touched: dict[int, datetime] = {}
            changes = timeline.changes_since(session, marks.last_id, INTAKE_BATCH)
            for _, kind, subject_id, action, at in changes:
                if kind == "order" and not action.startswith("proactive."):  # not our own notes
                    touched[subject_id] = max(touched.get(subject_id, at), at)
            new_scans = orders.scans_since_in(session, parcels.last_id, INTAKE_BATCH)
            for _, order_id, at in new_scans:
                touched[order_id] = max(touched.get(order_id, at), at)
            _touch(session, repo, touched, now)
            if changes:
                marks.last_id, marks.updated_at = changes[-1][0], now
            if new_scans:
                parcels.last_id, parcels.updated_at = new_scans[-1][0], now
            uow.commit()
        total += len(touched)
        if len(changes) < INTAKE_BATCH and len(new_scans) < INTAKE_BATCH:
            return total


def _record(session: Session, incident: Incident, at: datetime) -> None:
    """Every move of an incident on its order's timeline (for staff): found, told, over. Stored as
    keys (action per state, reason per kind), so each reader sees them in their own language."""
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.ORDER,
            subject_id=incident.order_id,
            action="proactive.detected"
            if incident.state == IncidentState.OPEN.value
            else f"proactive.{incident.state}",
            actor=SYSTEM_ACTOR,
            occurred_at=at,
            reason=f"reason.proactive.{incident.kind}",
            evidence={"episode": incident.episode, "ticket": incident.ticket_number},
            customer_visible=False,
        ),
    )


# --- 2. check what is due -----------------------------------------------------------------------
def _incident(fact: domain.OrderFact, finding: Finding, now: datetime) -> Incident:
    parcel = next((p for p in fact.parcels if p.shipment_id == finding.shipment_id), None)
    node = parcel.latest.node if parcel and parcel.latest else ""
    eta = None
    if parcel is not None and finding.kind is not IncidentKind.PRESUMED_LOST:
        eta = domain.estimate_eta(node, parcel.last_event_at, now, fact.international)
    checkpoint = domain.next_checkpoint(node) if parcel is not None else "picked_up"
    if finding.kind is IncidentKind.OUT_OF_STOCK:
        checkpoint = ""
    return Incident(
        order_id=fact.order_id,
        order_number=fact.number,
        customer_id=fact.customer_id,
        shipment_id=finding.shipment_id,
        kind=finding.kind.value,
        episode=finding.episode[:160],
        state=IncidentState.OPEN.value,
        first_signal_at=finding.first_signal_at,
        detected_at=now,
        eta_at=eta,
        next_checkpoint=checkpoint,
        detail=dict(finding.detail),
        ticket_number="",
    )


def _check(session: Session, repo: ProactiveRepository, watch: Watch, now: datetime,
           business: domain.BusinessTime) -> tuple[list[Incident], int]:  # fmt: skip
    """Run the detectors on one due order; returns the new incidents and how many were resolved."""
    seen = orders.orders_seen_in(session, [watch.order_id])
    watch.checked_at, watch.failures = now, 0
    if not seen:
        watch.next_check_at = None
        return [], 0
    fact = _fact(seen[0], watch.changed_at)
    verdict = domain.judge(fact, rules_for(fact.merchant_code), now, business)
    known = repo.episodes([f.episode for f in verdict.due])
    created = []
    for finding in verdict.due:
        if finding.episode in known:
            continue
        incident = _incident(fact, finding, now)
        try:
            with session.begin_nested():
                session.add(incident)
                session.flush()
        except IntegrityError:
            continue  # another worker stored this episode first
        _record(session, incident, now)
        created.append(incident)
    resolved = 0
    for open_one in repo.open_of_order(fact.order_id):
        if open_one.episode not in verdict.live_episodes and domain.can_move(
            IncidentState(open_one.state), IncidentState.RESOLVED
        ):
            open_one.state, open_one.resolved_at = IncidentState.RESOLVED.value, now
            _record(session, open_one, now)
            resolved += 1
    watch.next_check_at = verdict.next_check_at
    return created, resolved


def _back_off(session: Session, watch_id: int, now: datetime, error: Exception) -> bool:
    failures = 0
    try:
        with session.begin_nested():
            row = session.get(Watch, watch_id)
            if row is not None:
                row.failures += 1
                failures = row.failures
                row.next_check_at = now + scans.retry_delay(failures)
        backed_off = True
    except Exception as exc:
        log.error("proactive.backoff_failed", watch_id=watch_id, error=repr(exc))
        backed_off = False
    scans.item_failed(SCAN, watch_id, error, failures)
    return backed_off


def check_due(db: Database, now: datetime, batch: int = 200) -> ScanResult:
    """Check the watches whose next check has come, a batch per transaction, each watch in its own
    savepoint (one that fails is put back with a delay, the others are kept)."""
    result = ScanResult()
    stuck: set[int] = set()
    while True:
        with db.write() as uow:
            session, repo = uow.session, ProactiveRepository(uow.session)
            business = sla.logistics_time(session)
            rows = repo.due(now, batch, skip_locked=not db.is_sqlite, leaving_out=stuck)
            fresh: list[Incident] = []
            for watch_id in [w.id for w in rows]:
                try:
                    with session.begin_nested():
                        watch = session.get(Watch, watch_id)
                        if watch is None:
                            continue
                        created, resolved = _check(session, repo, watch, now, business)
                except Exception as exc:
                    if not _back_off(session, watch_id, now, exc):
                        stuck.add(watch_id)
                    continue
                fresh.extend(created)
                result.resolved += resolved
            result.checked += len(rows)
            session.flush()
            result.incidents.extend(IncidentOut.model_validate(i) for i in fresh)
            uow.commit()
        if len(rows) < batch:
            return result


# --- 3. tell the customer, and a person when one must act ------------------------------------------
def _zone() -> Any:
    return get_settings().zone


def _facts_for_words(incident: Incident, lang: str) -> dict[str, str]:
    zone = _zone()
    detail = incident.detail or {}

    def when(key: str) -> str:
        raw = detail.get(key)
        return wording.local_time(datetime.fromisoformat(raw), zone, lang) if raw else ""

    return {
        "ship_by": when("ship_by"),
        "promised": when("promised_at"),
        "last_scan": wording.local_time(incident.first_signal_at, zone, lang),
        "place": detail.get("place") or ("快递柜/驿站" if lang == "zh-CN" else "the pickup point"),
    }


def _texts(incident: Incident, actions: tuple[domain.Action, ...]) -> dict[str, dict[str, str]]:
    texts = {}
    for lang in wording.LANGS:
        eta = wording.local_time(incident.eta_at, _zone(), lang)
        texts[lang] = {
            "subject": wording.headline(incident.kind, incident.order_number, lang),
            "body": wording.body(
                incident.kind,
                incident.detail or {},
                _facts_for_words(incident, lang),
                eta,
                incident.next_checkpoint,
                actions,
                lang,
            ),
        }
    return texts


def _order_state(session: Session, order_id: int) -> tuple[str, bool]:
    facts = orders.order_facts_by_id(session, order_id)
    return facts.status.value, facts.shipped


def _raise_ticket(session: Session, incident: Incident) -> bool:
    """A person must act: the order's open ticket gets a note, or a new ticket opens. Once."""
    if incident.ticket_number or not domain.needs_a_person(IncidentKind(incident.kind), incident.detail or {}):
        return False
    zh = _texts(incident, ())["zh-CN"]
    number, _opened = tickets.raise_for_order_in(
        session, incident.order_number, zh["subject"], zh["body"], f"proactive:{incident.episode}"
    )
    incident.ticket_number = number
    return True


def tell(db: Database, now: datetime, batch: int = 100) -> tuple[int, int]:
    """Tickets first (so the notice can say a specialist has it), then the notice, for every open
    incident; returns (notified, tickets raised). Safe to run twice: the ticket is kept on the
    incident in the same transaction, and the notice's key is the episode."""
    notified = raised = 0
    tried: set[int] = set()  # a notice held back stays open for the next run, not this one again
    while True:
        with db.write() as uow:
            session, repo = uow.session, ProactiveRepository(uow.session)
            rows = repo.to_notify(batch, skip_locked=not db.is_sqlite, leaving_out=tried)
            tried.update(r.id for r in rows)
            plans = []
            for incident in rows:
                raised += _raise_ticket(session, incident)
                status, shipped = _order_state(session, incident.order_id)
                actions = domain.actions_for(status, shipped, IncidentKind(incident.kind))
                plans.append(
                    (
                        incident.id,
                        incident.customer_id,
                        incident.episode,
                        incident.order_number,
                        _texts(incident, actions),
                    )
                )
            uow.commit()
        for incident_id, customer_id, episode, order_number, texts in plans:
            params = {"texts": texts, "link": f"/notices/{incident_id}", "template": "proactive.incident",
                      "order_number": order_number, "occurred_at": now.isoformat()}  # fmt: skip
            result = notifications.notify(
                db, customer_id, PREPARED_NOTICE, params, f"proactive:{episode}",
                message_class=MessageClass.SERVICE_PROACTIVE,
            )  # fmt: skip
            with db.write() as uow:
                row = ProactiveRepository(uow.session).incident(incident_id)
                if row is not None and row.state == IncidentState.OPEN.value:
                    if result is not None and result.outcome == "refuse":
                        # The outreach governor said no (opt-out, outside the window…): not told.
                        row.state, row.resolved_at = IncidentState.RESOLVED.value, now
                        row.detail = {**(row.detail or {}), "notice": "refused", "why": result.reason}
                        _record(uow.session, row, now)
                    elif result is not None:
                        # Sent, or in the governor's hands (deferred past quiet hours, merged into a
                        # digest): the notice exists and will reach the customer.
                        row.state, row.notified_at = IncidentState.NOTIFIED.value, now
                        row.notice_id = result.inbox_id
                        if result.outcome != "send":
                            row.detail = {**(row.detail or {}), "notice": result.outcome}
                        notified += 1
                        _record(uow.session, row, now)
                    elif now - row.detected_at >= NOTICE_TTL:
                        # Nobody could be told in time (no such customer, or every try was held
                        # back): the notice expires, and the incident is closed as such.
                        row.state, row.resolved_at = IncidentState.RESOLVED.value, now
                        row.detail = {**(row.detail or {}), "notice": "expired"}
                        _record(uow.session, row, now)
                uow.commit()
        if len(plans) < batch:
            return notified, raised


def scan(db: Database, now: datetime | None = None) -> ScanResult:
    """Intake, check what is due, tell. Returns the new incidents of this run."""
    now = ensure_utc(now or clock.now())
    taken = intake(db, now)
    result = check_due(db, now)
    result.taken_in = taken
    result.notified, result.tickets = tell(db, now)
    return result


# --- reads ---------------------------------------------------------------------------------------
def open_incidents(db: Database, limit: int = 200) -> list[IncidentOut]:
    with db.read() as uow:
        return [IncidentOut.model_validate(i) for i in ProactiveRepository(uow.session).unresolved(limit)]


def incidents_of_order(db: Database, number: str, viewer: Principal) -> list[IncidentOut]:
    with db.read() as uow:
        facts = orders.order_facts(uow.session, number, viewer)  # NotFound unless the viewer may see it
        return [IncidentOut.model_validate(i) for i in ProactiveRepository(uow.session).of_order(facts.order_id)]


def notice(db: Database, incident_id: int, viewer: Principal, lang: str) -> NoticeView:
    """The notice page of one incident, for its customer (or staff): the answer and the actions
    that work for the order now (they change as the order moves on)."""
    with db.read() as uow:
        incident = ProactiveRepository(uow.session).incident(incident_id)
        if incident is None or (viewer.role is Role.CUSTOMER and incident.customer_id != viewer.customer_id):
            raise NotFound(f"No notice #{incident_id} for you.")
        status, shipped = _order_state(uow.session, incident.order_id)
        actions = domain.actions_for(status, shipped, IncidentKind(incident.kind))
        order = orders.get_order(db, incident.order_number, viewer)
        view = IncidentOut.model_validate(incident)
        return NoticeView(
            incident=view,
            headline=wording.headline(incident.kind, incident.order_number, lang),
            what=wording.what_happened(incident.kind, incident.detail or {}, _facts_for_words(incident, lang), lang),
            eta=wording.local_time(incident.eta_at, _zone(), lang),
            next_checkpoint=wording.checkpoint(incident.next_checkpoint, lang) if incident.next_checkpoint else "",
            actions=[a.value for a in actions],
            order_status=status,
            recipient_name=order.recipient_name,
            recipient_phone=order.recipient_phone,
            address_region=order.address_region,
            address_detail=order.address_detail,
        )


def time_to_notice(rows: list[IncidentOut]) -> timedelta | None:
    """The median time to notice of these incidents (notified − first signal)."""
    spans = sorted(r.notified_at - r.first_signal_at for r in rows if r.notified_at is not None)
    return spans[len(spans) // 2] if spans else None


# --- what the help center may quote ----------------------------------------------------------------
def _hours(delta: timedelta) -> tuple[str, str]:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} 小时", f"{hours:g} hours"


def _days(delta: timedelta, working: bool) -> tuple[str, str]:
    days = delta.total_seconds() / 86400
    if working:
        return f"{days:g} 个工作日", f"{days:g} working day{'' if days == 1 else 's'}"
    return f"{days:g} 天", f"{days:g} day{'' if days == 1 else 's'}"


def help_facts(_db: Database) -> dict[str, tuple[str, str]]:
    """The default thresholds as the help center quotes them (`{{proactive.stall_domestic}}`, …), so
    an article never promises a notice the detectors do not send."""
    rules = rules_table()[0]
    return {
        "proactive.stall_domestic": _days(rules.stall_domestic, working=True),
        "proactive.stall_international": _days(rules.stall_international, working=True),
        "proactive.ship_warn": _hours(rules.ship_within * rules.ship_warn_share),
        "proactive.ship_within": _hours(rules.ship_within),
        "proactive.lost_domestic": _days(rules.lost_domestic, working=False),
        "proactive.pickup_within": _hours(rules.pickup_within),
    }
