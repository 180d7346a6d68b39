"""Carriers' and tracking platforms' payloads mapped to our logistics nodes, one pure module per
format; FORMATS lists them for the import (`aftersales import tracking --format …`)."""

from __future__ import annotations

from collections.abc import Callable

from aftersales.integrations.carriers import aftership, cainiao, easypost, shippo, track17
from aftersales.integrations.carriers.model import Node, PayloadError, Reason, Scan, Tracking

Parser = Callable[[object], list[Tracking]]

FORMATS: dict[str, Parser] = {
    easypost.FORMAT: easypost.parse,
    aftership.FORMAT: aftership.parse,
    track17.FORMAT: track17.parse,
    shippo.FORMAT: shippo.parse,
    cainiao.FORMAT: cainiao.parse,
}

__all__ = ["FORMATS", "Node", "Parser", "PayloadError", "Reason", "Scan", "Tracking"]
