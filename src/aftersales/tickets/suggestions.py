"""Low-priority tickets are answered from the help center first: the articles that match go to the
customer at once, as a service message."""

from __future__ import annotations

from aftersales.db.uow import Database
from aftersales.kit.access import SYSTEM
from aftersales.knowledge import service as knowledge
from aftersales.tickets import workflow
from aftersales.tickets.domain import Channel, MessageKind
from aftersales.tickets.intake import signal
from aftersales.tickets.repository import TicketsRepository

SUGGESTIONS = 3
# Below this share of the question's words, an article is not offered as an answer.
SUGGESTION_COVERAGE = 0.34


def suggest_articles(db: Database, number: str) -> int:
    """Low priority is answered from the help center first: the articles that match the ticket go
    to the customer at once as a service message (it does not count as a person's response, so
    the SLA clocks keep running). Returns how many were suggested."""
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        ticket = repo.by_number_unscoped(number)
        if ticket is None:
            return 0
        first = repo.messages(ticket.id, include_notes=False)
        # A chat hand-off's subject (and a first message with no words of the customer's) is a
        # catalogue key, not a question: only people's words are searched.
        words = [ticket.subject, first[0].body if first else ""]
        question = " ".join(w for w in words if not w.startswith("handoff.subject.")).strip()[:500]
    if not question:
        return 0
    lang = "en" if question.isascii() else "zh-CN"
    hits = [h for h in knowledge.search(db, question, lang, limit=SUGGESTIONS) if h.coverage >= SUGGESTION_COVERAGE]
    if not hits:
        return 0
    intro = "These help articles may already answer it:" if lang == "en" else "以下帮助文章也许能马上解答您的问题："
    body = "\n".join([intro, *(f"· {h.title} — {h.url}" for h in hits)])
    with db.write() as uow:
        ticket = TicketsRepository(uow.session).by_number_unscoped(number)
        if ticket is None:
            return 0
        workflow.add_message(
            uow.session,
            ticket,
            kind=MessageKind.SYSTEM,
            body=body,
            by=SYSTEM,
            channel=Channel(ticket.channel),
            author_name="帮助中心" if lang == "zh-CN" else "Help center",
        )
        signal(uow.session, ticket)
        uow.commit()
    return len(hits)
