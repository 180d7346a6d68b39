"""Classifying a ticket on arrival (responsibility × scenario, tags, type, threats, reasons) and
measuring how often agents agreed. Pure: text and order facts in, a Classification out.

- classifier.py: the decisions (keywords, the order's facts, the model when no keyword matched);
- keywords.py: reading the words against the taxonomy's keywords;
- model.py: the character n-gram model for texts no keyword matched;
- domain.py: TicketFacts and Classification; accuracy.py: agreement with agents' corrections.
The text is normalised and cut into n-grams by the understanding package.
"""

from aftersales.tickets.classification.accuracy import AccuracyReport, Labelled, accuracy
from aftersales.tickets.classification.classifier import classify, priority_facts, warm_up
from aftersales.tickets.classification.domain import Classification, TicketFacts
from aftersales.tickets.classification.keywords import MAX_CHARS, normalise

__all__ = [
    "MAX_CHARS",
    "AccuracyReport",
    "Classification",
    "Labelled",
    "TicketFacts",
    "accuracy",
    "classify",
    "normalise",
    "priority_facts",
    "warm_up",
]
