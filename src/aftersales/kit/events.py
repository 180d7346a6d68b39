"""Domain events: facts one context states once and others react to, carried by the outbox.

Each event is a frozen dataclass with its topic, defined in the publishing context's events.py and
published there only (tests/unit/test_event_publishers.py). The outbox stores an event as its topic
and a JSON object of its fields: the same rows the outbox held before events were typed, so rows
written by an older release are read back into the same classes. A field whose payload key is not
a Python name ("from", "to") names its key with `payload_key`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Self

_BY_TOPIC: dict[str, type[DomainEvent]] = {}


def payload_key(name: str) -> Any:
    """A field stored under another key than its own name (dataclasses.field with metadata)."""
    return field(metadata={"key": name})


def _coerce(annotation: object, value: Any) -> Any:
    """JSON gives back what was stored; a hand-written or older row may hold "12" for 12."""
    if value is None:
        return None
    base = str(annotation).replace(" | None", "").strip()
    if base == "int":
        return int(value)
    if base == "str":
        return str(value)
    return value


class DomainEvent:
    """Subclasses are frozen dataclasses; they set `topic` (unique across the code) and declare
    their fields."""

    __slots__ = ()

    topic: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        topic = cls.__dict__.get("topic", "")
        if not topic:
            return
        known = _BY_TOPIC.get(topic)
        # @dataclass(slots=True) builds the class a second time: the same name is no conflict.
        if known is not None and (known.__module__, known.__name__) != (cls.__module__, cls.__name__):
            raise TypeError(f"two events claim the topic {topic!r}: {known.__name__} and {cls.__name__}")
        _BY_TOPIC[topic] = cls

    def payload(self) -> dict[str, Any]:
        """The JSON object the outbox stores."""
        return {f.metadata.get("key", f.name): getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        """Read a stored payload back: unknown keys are ignored, a missing optional one is None, a
        missing required one is an error (the message is retried and the operator alerted)."""
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            key = f.metadata.get("key", f.name)
            if key in payload:
                values[f.name] = _coerce(f.type, payload[key])
            elif "None" in str(f.type):
                values[f.name] = None  # rows of older releases may lack a field added since
            elif f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"a {cls.topic} event without {key!r}")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event handed to a consumer that may not import its class (notifications tells customers
    of events from contexts above it in the map): its topic and its fields exactly as stored."""

    topic: str
    fields: Mapping[str, Any]

    def payload(self) -> dict[str, Any]:
        return dict(self.fields)


def event_type(topic: str) -> type[DomainEvent]:
    """The event class of a topic (its module must have been imported)."""
    try:
        return _BY_TOPIC[topic]
    except KeyError:
        raise LookupError(f"no event class for the topic {topic!r}") from None


def event_types() -> dict[str, type[DomainEvent]]:
    return dict(_BY_TOPIC)
