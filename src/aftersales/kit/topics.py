"""Topic names of the events a context hears from a publisher it may not import.

Notifications tells customers of case, order and refund changes, but sits beside or below their
publishers in the context map, so it cannot name their event classes. Both sides take the topic
from here: a rename breaks the publisher and the subscriber together, loudly, not the delivery of
messages silently.
"""

from __future__ import annotations

from typing import Final

CASE_STATUS_CHANGED: Final = "case.status_changed"
ORDER_STATUS_CHANGED: Final = "order.status_changed"
REFUND_SETTLED: Final = "refund.settled"
DISPUTE_STATUS_CHANGED: Final = "dispute.status_changed"
TICKET_PUBLIC_REPLY: Final = "tickets.public_reply"  # an agent wrote to the customer (outreach governor)
SURVEY_SENT: Final = "survey.sent"
CSAT_SUBMITTED: Final = "csat.submitted"
