"""The delivery state machine: normalized states, their ranks and the rule for "complete".

Shared by store, receiver, trigger, sensor and CLI; when waiting is over is :mod:`.waiting`.

Each vendor maps its codes to a :class:`DeliveryState` in its own models module. Each state has a rank:
a channel attempt only ever moves to a higher rank (or the same rank with a newer timestamp), so
duplicate and out-of-order callbacks never move a message backwards.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class DeliveryState(str, enum.Enum):
    """Normalized state of one channel attempt or of a whole message."""

    UNKNOWN = "UNKNOWN"  # a vendor code we do not know: stored raw, never final
    QUEUED = "QUEUED"  # accepted by the vendor, in progress
    SENT = "SENT"  # handed to the carrier / gateway
    EXPIRED = "EXPIRED"  # not delivered within the channel's fallback time (Telesign 3056)
    FAILED = "FAILED"  # final failure on this channel
    DELIVERED = "DELIVERED"
    READ = "READ"


RANK: dict[DeliveryState, int] = {
    DeliveryState.UNKNOWN: 0,
    DeliveryState.QUEUED: 10,
    DeliveryState.SENT: 20,
    DeliveryState.EXPIRED: 30,
    DeliveryState.FAILED: 30,
    DeliveryState.DELIVERED: 40,
    DeliveryState.READ: 50,
}
SUCCESS_STATES = frozenset({DeliveryState.DELIVERED, DeliveryState.READ})
FAILURE_STATES = frozenset({DeliveryState.FAILED, DeliveryState.EXPIRED})

# The vendor code tables live with each vendor's models (models/telesign.py, models/aerialink.py);
# these names are kept here for existing imports and resolved on first use (pydantic loads lazily).
_VENDOR_NAMES = {
    "telesign_state": "airflow_provider_messaging.models.telesign",
    "aerialink_state": "airflow_provider_messaging.models.aerialink",
    "AERIALINK_STATES": "airflow_provider_messaging.models.aerialink",
}


def __getattr__(name: str) -> Any:
    if name in _VENDOR_NAMES:
        import importlib

        return getattr(importlib.import_module(_VENDOR_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def supersedes(new: DeliveryState, new_at: datetime | None, old: DeliveryState, old_at: datetime | None) -> bool:
    """True when an attempt in state ``new`` may replace one in state ``old`` (monotonic rule)."""
    if RANK[new] != RANK[old]:
        return RANK[new] > RANK[old]
    if new_at is None or old_at is None:
        return False
    return new_at > old_at


@dataclass(frozen=True)
class ChannelEvent:
    """One channel's status as reported by one callback (vendor-neutral)."""

    channel: str
    state: DeliveryState
    code: str | None = None
    description: str | None = None
    channel_reference_id: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class ChannelAttempt:
    """The stored, monotonic state of one channel of a message."""

    channel: str
    state: DeliveryState
    code: str | None = None
    description: str | None = None
    channel_reference_id: str | None = None
    updated_on: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "state": self.state.value,
            "code": self.code,
            "description": self.description,
            "channel_reference_id": self.channel_reference_id,
            "updated_on": self.updated_on.isoformat() if self.updated_on else None,
        }


@dataclass(frozen=True)
class Summary:
    """What the attempts of a message add up to."""

    state: DeliveryState
    complete: bool
    delivered_channel: str | None


def summarize(cascade: Sequence[str], attempts: Mapping[str, ChannelAttempt]) -> Summary:
    """Apply the completion rule: complete when any channel delivered, or every channel of the cascade failed.

    With an unknown cascade (a callback arrived before the send was recorded) nothing is complete
    unless a channel delivered.
    """
    delivered = [a for a in attempts.values() if a.state in SUCCESS_STATES]
    if delivered:
        ordered = sorted(delivered, key=lambda a: cascade.index(a.channel) if a.channel in cascade else 99)
        read = any(a.state is DeliveryState.READ for a in delivered)
        return Summary(DeliveryState.READ if read else DeliveryState.DELIVERED, True, ordered[0].channel)
    if cascade and all(c in attempts and attempts[c].state in FAILURE_STATES for c in cascade):
        return Summary(DeliveryState.FAILED, True, None)
    if not attempts:
        return Summary(DeliveryState.QUEUED, False, None)
    # In progress: report the most advanced non-final state (a failed first channel means fallback runs).
    pending = [a for a in attempts.values() if a.state not in FAILURE_STATES]
    if not pending:
        return Summary(DeliveryState.QUEUED, False, None)
    best = max(pending, key=lambda a: RANK[a.state])
    return Summary(best.state if best.state is not DeliveryState.UNKNOWN else DeliveryState.QUEUED, False, None)


@dataclass
class MessageStatus:
    """The status record of one message: what sensors return, what the CLI prints."""

    vendor: str
    message_id: str
    state: DeliveryState
    complete: bool
    delivered_channel: str | None
    channels: list[str]
    attempts: list[ChannelAttempt] = field(default_factory=list)
    recipient: str | None = None
    idempotency_key: str | None = None
    send_status: str | None = None
    error: str | None = None  # why a send was REJECTED or its outcome is UNKNOWN (the vendor's error)
    created_at: datetime | None = None
    completed_at: datetime | None = None
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None

    @property
    def delivered(self) -> bool:
        return self.state in SUCCESS_STATES

    @property
    def fallback_used(self) -> bool:
        return bool(self.delivered_channel and self.channels and self.delivered_channel != self.channels[0])

    def failure_reasons(self) -> list[str]:
        """One line per channel: ``rcs: EXPIRED (3056 Message failed to deliver ...)``."""
        lines = []
        for attempt in self.attempts:
            detail = " ".join(str(p) for p in (attempt.code, attempt.description) if p)
            lines.append(f"{attempt.channel}: {attempt.state.value}" + (f" ({detail})" if detail else ""))
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (XCom, trigger events, ``status --json``)."""
        return {
            "vendor": self.vendor,
            "message_id": self.message_id,
            "state": self.state.value,
            "complete": self.complete,
            "delivered": self.delivered,
            "delivered_channel": self.delivered_channel,
            "fallback_used": self.fallback_used,
            "channels": list(self.channels),
            "attempts": [a.to_dict() for a in self.attempts],
            "recipient": self.recipient,
            "idempotency_key": self.idempotency_key,
            "send_status": self.send_status,
            "error": self.error,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "run_id": self.run_id,
        }


def order_attempts(cascade: Sequence[str], attempts: Iterable[ChannelAttempt]) -> list[ChannelAttempt]:
    """Attempts in cascade order, channels outside the cascade last."""
    return sorted(attempts, key=lambda a: cascade.index(a.channel) if a.channel in cascade else len(cascade))
