"""Tickets (工单): statuses and their transition table, channels, types, priorities, macros, mentions.

Pure rules: no database, no clock. The service applies them inside a unit of work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aftersales.kit.access import Role
from aftersales.kit.vocabulary import Priority as Priority
from aftersales.kit.vocabulary import TicketType as TicketType


class TicketStatus(StrEnum):
    NEW = "new"  # arrived, nobody has answered yet
    OPEN = "open"  # an agent is on it
    PENDING = "pending"  # waiting on the customer: the SLA clocks pause
    SOLVED = "solved"  # answered; reopens when the customer writes again
    CLOSED = "closed"  # final (also a ticket merged into another)


class Channel(StrEnum):
    WEB = "web"
    CHAT = "chat"
    EMAIL = "email"
    API = "api"
    PHONE = "phone"


PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def raised(priority: Priority) -> Priority:
    """One step up; escalation on a breach never lowers a priority."""
    order = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
    return order[min(PRIORITY_RANK[priority] + 1, len(order) - 1)]


class MessageKind(StrEnum):
    CUSTOMER = "customer"  # from the requester, by any channel
    REPLY = "reply"  # an agent's public reply (the customer sees it)
    NOTE = "note"  # an internal note (staff only)
    SYSTEM = "system"  # a line the system writes (merged, escalated…)


class TicketAction(StrEnum):
    REPLY = "reply"
    NOTE = "note"
    CUSTOMER_MESSAGE = "customer_message"
    WAIT_FOR_CUSTOMER = "wait_for_customer"
    SOLVE = "solve"
    CLOSE = "close"
    REOPEN = "reopen"
    ASSIGN = "assign"
    ESCALATE = "escalate"
    MERGE = "merge"


S, A = TicketStatus, TicketAction
# status → action → next status (None: stays as it is). Absent: not allowed in that status.
# Each status's row is written out in full, although rows look alike: the table is the rule a reader checks.
TRANSITIONS: dict[TicketStatus, dict[TicketAction, TicketStatus | None]] = {
    S.NEW: {
        A.REPLY: S.OPEN,
        A.NOTE: None,
        A.CUSTOMER_MESSAGE: None,
        A.WAIT_FOR_CUSTOMER: S.PENDING,
        A.SOLVE: S.SOLVED,
        A.CLOSE: S.CLOSED,
        A.ASSIGN: None,
        A.ESCALATE: None,
        A.MERGE: S.CLOSED,
    },
    S.OPEN: {
        A.REPLY: None,
        A.NOTE: None,
        A.CUSTOMER_MESSAGE: None,
        A.WAIT_FOR_CUSTOMER: S.PENDING,
        A.SOLVE: S.SOLVED,
        A.CLOSE: S.CLOSED,
        A.ASSIGN: None,
        A.ESCALATE: None,
        A.MERGE: S.CLOSED,
    },
    S.PENDING: {
        A.REPLY: None,
        A.NOTE: None,
        A.CUSTOMER_MESSAGE: S.OPEN,
        A.SOLVE: S.SOLVED,
        A.CLOSE: S.CLOSED,
        A.REOPEN: S.OPEN,
        A.ASSIGN: None,
        A.ESCALATE: S.OPEN,
        A.MERGE: S.CLOSED,
    },
    S.SOLVED: {
        A.NOTE: None,
        A.CUSTOMER_MESSAGE: S.OPEN,
        A.CLOSE: S.CLOSED,
        A.REOPEN: S.OPEN,
        A.MERGE: S.CLOSED,
    },
    S.CLOSED: {A.NOTE: None},
}

ACTIVE = frozenset({S.NEW, S.OPEN, S.PENDING})
# What agents choose after writing a reply (Zendesk's "submit as").
REPLY_THEN = (S.OPEN, S.PENDING, S.SOLVED)


class TransitionRefused(ValueError):
    pass


# A linked after-sales case whose money has not reached the customer: the ticket stays open (not
# "solved", not closed) until it has, so the desk keeps it in front of someone.
UNSETTLED_CASES = frozenset({"refund_failed"})


def settling_refused(action: TicketAction, before: TicketStatus, case_status: str | None) -> bool:
    """Whether solving or closing an active ticket is refused because its case's refund failed."""
    return action in (A.SOLVE, A.CLOSE) and before in ACTIVE and case_status in UNSETTLED_CASES


def next_status(status: TicketStatus, action: TicketAction) -> TicketStatus:
    allowed = TRANSITIONS[status]
    if action not in allowed:
        raise TransitionRefused(f"A {status.value} ticket cannot take '{action.value}'.")
    return allowed[action] or status


def actions_for(status: TicketStatus) -> list[TicketAction]:
    return list(TRANSITIONS[status])


# --- who may do what ------------------------------------------------------------------------------
DESK_ROLES = frozenset({Role.AGENT_T1, Role.AGENT_T2, Role.SUPERVISOR, Role.ADMIN})
# A POP merchant answers the tickets the platform routes to its own queue.
TICKET_STAFF = DESK_ROLES | {Role.MERCHANT, Role.ARBITRATOR}


def ticket_number(day: str, ticket_id: int) -> str:
    """TK + yymmdd + the id, zero-padded: readable on the phone and unique (like AS… for cases)."""
    return f"TK{day}{ticket_id:06d}"


# --- macros ---------------------------------------------------------------------------------------
MACRO_VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
MACRO_VARIABLES = ("customer_name", "ticket_number", "order_number", "case_number", "agent_name")


@dataclass(frozen=True, slots=True)
class MacroActions:
    """What a macro does besides writing its text."""

    status: TicketStatus | None = None
    priority: Priority | None = None
    add_tags: tuple[str, ...] = ()


def unknown_variables(template: str) -> list[str]:
    return sorted({name for name in MACRO_VARIABLE.findall(template) if name not in MACRO_VARIABLES})


# A macro that asks the customer for something is no use once the ticket has it.
MACRO_ASKS_FOR = {"ask_order_number": "order_number"}
# "张敏 (一线)": the part in brackets is the agent's tier, for staff; the customer reads the name.
STAFF_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def customer_facing_name(display_name: str) -> str:
    return STAFF_NOTE.sub("", display_name).strip() or display_name


def macro_missing(template: str, values: dict[str, str]) -> list[str]:
    """The variables this macro needs that the ticket has no value for; a macro with any missing
    would send a sentence with a hole in it, so it is not offered."""
    return sorted({name for name in MACRO_VARIABLE.findall(template) if not values.get(name)})


def macro_offered(key: str, template: str, values: dict[str, str]) -> bool:
    asks = MACRO_ASKS_FOR.get(key)
    if asks and values.get(asks):
        return False
    return not macro_missing(template, values)


def render_macro(template: str, values: dict[str, str]) -> str:
    """Fill {{variable}}; a value we do not have renders as an empty string, never the raw braces."""
    return MACRO_VARIABLE.sub(lambda m: values.get(m.group(1), ""), template)


# --- mentions ---------------------------------------------------------------------------------------
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.\-]{2,64})")


def mentioned_usernames(text: str) -> list[str]:
    seen: list[str] = []
    for name in MENTION.findall(text):
        name = name.rstrip(".-")
        if name not in seen:
            seen.append(name)
    return seen


# --- subject lines ----------------------------------------------------------------------------------
def subject_from(text: str, limit: int = 80) -> str:
    """A subject from the first line of a message when the channel gives none (chat, phone)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def same_requester(a_customer_id: int | None, a_email: str, b_customer_id: int | None, b_email: str) -> bool:
    """Whether two tickets come from the same person: the same customer record, or (when one has
    none) the same e-mail address. Merging tickets of different people needs a confirmation, and
    mail to one never continues in the other's thread."""
    if a_customer_id is not None and b_customer_id is not None:
        return a_customer_id == b_customer_id
    a, b = a_email.strip().lower(), b_email.strip().lower()
    return bool(a) and a == b


# --- who may write into a ticket by email ------------------------------------------------------------
# Results of the receiving MTA's checks (RFC 8601) that agents see flagged.
FAILING_AUTH = {
    "spf": frozenset({"fail", "softfail", "permerror"}),
    "dkim": frozenset({"fail", "permerror"}),
    "dmarc": frozenset({"fail", "permerror"}),
}


def auth_failures(results: Mapping[str, str]) -> list[str]:
    """The checks that failed, as "dmarc=fail": shown in red next to the mail."""
    return [
        f"{method}={results[method]}"
        for method in ("spf", "dkim", "dmarc")
        if results.get(method) in FAILING_AUTH[method]
    ]


def sender_disproved(results: Mapping[str, str]) -> bool:
    """The MTA found the From address forged: DMARC failed, or (without a DMARC pass or fail: no
    record, an error) SPF failed and no DKIM signature passed. An SPF failure is not enough when
    DMARC passed: forwarded mail fails SPF while its DKIM signature (and so DMARC) still passes."""
    dmarc = results.get("dmarc")
    if dmarc in ("pass", "fail"):
        return dmarc == "fail"
    return results.get("spf") == "fail" and results.get("dkim") != "pass"


@dataclass(frozen=True, slots=True)
class MailSender:
    address: str  # lower case
    ambiguous: bool  # From held more than one address
    authentication: Mapping[str, str]

    @property
    def trusted(self) -> bool:
        """The address may stand for a person: one address, and not shown forged by the MTA."""
        return bool(self.address) and not self.ambiguous and not sender_disproved(self.authentication)


def may_join(sender: MailSender, requester_email: str, participants: Iterable[str]) -> bool:
    """A mail joins an existing ticket only from its requester or a participant (an address that wrote
    into the ticket before or was copied on it): anyone can guess a ticket number or copy a thread's
    headers, so the address decides, and only a trusted one."""
    if not sender.trusted:
        return False
    return sender.address == requester_email.strip().lower() or sender.address in set(participants)


@dataclass(frozen=True, slots=True)
class MetricFacts:
    """What reports file a ticket's events under (its dimensions), read when the event is recorded."""

    ticket_id: int
    number: str
    channel: str
    assignee_user_id: int | None
    group_key: str
    merchant_id: int | None
    ticket_type: str
    scenario: str
    customer_id: int | None
    order_number: str
    created_at: datetime
    agent_replies: int
