"""Aerialink delivery callbacks per scenario, in the shape assumed by docs/CONTRACTS.md.

Aerialink publishes no callback schema; the fields are ``messageGUID, destination, source, status,
channel, failover, errorCode, reason, timestamp``. A failover attempt is reported as its own
callback with ``channel`` SMS/MMS, ``failover: true`` and the failover source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .config import SandboxConfig
from .formats import iso_milli_z, utcnow
from .scenarios import Outcome

RCS_FAILED = ("RCS_DELIVERY_FAILED", "RCS message could not be delivered")
RCS_UNAVAILABLE = ("RCS_UNAVAILABLE", "RCS is not available for this recipient")
FAILOVER_FAILED = ("CARRIER_REJECTED", "Failover message rejected by the carrier")


@dataclass(frozen=True)
class PlannedCallback:
    send_after: float
    status: str
    payload: dict[str, Any]


def plan(
    guid: str,
    message: dict[str, Any],
    failover: tuple[str, str] | None,
    outcome: Outcome,
    config: SandboxConfig,
    now: datetime | None = None,
) -> list[PlannedCallback]:
    """Callbacks to send, in sending order. ``failover`` is ``(channel, failoverSource)`` if enabled."""
    now = now or utcnow()
    base = config.base_delay_s

    def event(at: float, status: str, *, on_failover: bool = False, error: tuple[str, str] | None = None) -> Any:
        channel, source = failover if on_failover and failover else ("RCS", str(message.get("source", "")))
        payload = {
            "messageGUID": guid,
            "destination": message.get("destination"),
            "source": source,
            "status": status,
            "channel": channel,
            "failover": on_failover,
            "errorCode": error[0] if error else None,
            "reason": error[1] if error else None,
            "timestamp": iso_milli_z(now + timedelta(seconds=at)),
        }
        return PlannedCallback(at, status, payload)

    if outcome in (Outcome.DELIVERED, Outcome.RATE_LIMITED, Outcome.READ):
        return [event(base, "SUCCESS")]
    if outcome is Outcome.OUT_OF_ORDER:
        earlier, final = event(base / 2, "PROCESSING"), event(base, "SUCCESS")
        gap = max(0.02, base / 4)
        return [
            PlannedCallback(base + i * gap, cb.status, cb.payload)
            for i, cb in enumerate((final, earlier, final, earlier))
        ]
    if outcome in (Outcome.FALLBACK_TIMEOUT, Outcome.UNSUPPORTED, Outcome.ALL_FAIL):
        first = event(base, "FAIL", error=RCS_UNAVAILABLE if outcome is Outcome.UNSUPPORTED else RCS_FAILED)
        if failover is None:
            return [first]
        if outcome is Outcome.ALL_FAIL:
            return [first, event(2 * base, "FAIL", on_failover=True, error=FAILOVER_FAILED)]
        return [first, event(2 * base, "SUCCESS", on_failover=True)]
    return []  # SILENT
