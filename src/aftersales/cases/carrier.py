"""The courier port: booking a pickup of returned goods, and a simulated courier that answers as
a real one does (a booking reference per request key).

A real adapter (SF Express, JD Logistics ...) implements `CourierPort`; the simulator keeps no
state: the reference is derived from the key, so the same case booked twice is the same booking
(a carrier's idempotency), and another case never gets that reference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PickupBooking:
    reference: str
    pickup_at: datetime


class CourierPort(Protocol):
    def book_pickup(self, booking_key: str, pickup_at: datetime, address: str) -> PickupBooking:
        """Book (or move) the courier's visit; the same key always means the same booking."""
        ...


class SimulatedCourier:
    def book_pickup(self, booking_key: str, pickup_at: datetime, address: str) -> PickupBooking:
        digest = hashlib.sha256(booking_key.encode()).hexdigest()[:10].upper()
        return PickupBooking(reference=f"PU-{digest}", pickup_at=pickup_at)


_courier: CourierPort = SimulatedCourier()


def default_courier() -> CourierPort:
    return _courier


def pickup_key(case_id: int) -> str:
    """One courier booking per case: moving the time keeps the booking."""
    return f"case-{case_id}-pickup"
