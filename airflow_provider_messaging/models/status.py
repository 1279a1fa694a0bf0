"""Normalized delivery states and the rules for "complete", shared by store, receiver, trigger, sensor and CLI.

Each vendor maps its codes to a :class:`DeliveryState` in its own models module. Each state has a rank:
a channel attempt only ever moves to a higher rank (or the same rank with a newer timestamp), so
duplicate and out-of-order callbacks never move a message backwards.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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


def normalize_recipient(value: str) -> str:
    """Digits of a phone number (``+1 555-867-5309`` -> ``15558675309``); other ids lower-cased."""
    digits = re.sub(r"[\s\-().+]", "", value or "")
    return digits if digits.isdigit() else (value or "").strip().lower()


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


@dataclass(frozen=True)
class Verdict:
    """Outcome of waiting on one or more messages: ``done`` and, if done, ``success``."""

    done: bool
    success: bool
    reason: str


@dataclass(frozen=True)
class DeliveryCriteria:
    """When waiting on messages is over, and whether it went well (shared by sensor and trigger).

    :param success_states: states that count as delivered (e.g. add ``SENT`` where no receipts exist).
    :param fail_on_fallback: a message delivered only by a fallback channel counts as failed.
    :param match: ``all`` messages must succeed (up to ``min_delivered_ratio``) or ``any`` one suffices.
    :param min_delivered_ratio: with ``match="all"``, the share of messages that must succeed.
    """

    success_states: tuple[str, ...] = ("DELIVERED", "READ")
    fail_on_fallback: bool = False
    match: str = "all"
    min_delivered_ratio: float = 1.0

    def __post_init__(self) -> None:
        if self.match not in ("all", "any"):
            raise ValueError(f"match must be 'all' or 'any', not {self.match!r}")
        if not 0.0 <= self.min_delivered_ratio <= 1.0:
            raise ValueError("min_delivered_ratio must be between 0 and 1")
        unknown = set(self.success_states) - {s.value for s in DeliveryState}
        if unknown:
            raise ValueError(f"unknown success_states {sorted(unknown)}; use {[s.value for s in DeliveryState]}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryCriteria:
        values = dict(data)
        if "success_states" in values:
            values["success_states"] = tuple(values["success_states"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success_states": list(self.success_states),
            "fail_on_fallback": self.fail_on_fallback,
            "match": self.match,
            "min_delivered_ratio": self.min_delivered_ratio,
        }

    def succeeded(self, status: MessageStatus) -> bool:
        if status.state.value not in self.success_states:
            return False
        return not (self.fail_on_fallback and status.fallback_used)

    def settled(self, status: MessageStatus) -> bool:
        return status.complete or status.state.value in self.success_states

    def evaluate(self, message_ids: Sequence[str], statuses: Mapping[str, MessageStatus]) -> Verdict:
        known = [statuses[m] for m in message_ids if m in statuses]
        failed = [s for s in known if self.settled(s) and not self.succeeded(s)]
        ok = sum(self.succeeded(s) for s in known)
        return self.evaluate_counts(len(message_ids), ok, len(failed), lambda: _failure_text(failed))

    def evaluate_counts(self, total: int, ok: int, failed: int, failure_text: Callable[[], str]) -> Verdict:
        """The verdict from counts alone: ``ok`` succeeded and ``failed`` settled unsuccessfully of ``total``."""
        if self.match == "any":
            if ok:
                return Verdict(True, True, f"{ok} of {total} delivered")
            if failed == total:
                return Verdict(True, False, failure_text())
            return Verdict(False, False, f"waiting on {total - failed} of {total}")
        needed = self.min_delivered_ratio * total
        if total - failed < needed - 1e-9:
            return Verdict(True, False, failure_text())
        if ok + failed == total:
            return Verdict(True, True, f"{ok} of {total} delivered")
        return Verdict(False, False, f"{ok} of {total} delivered, waiting on {total - ok - failed}")

    def evaluate_campaign(self, groups: Sequence[tuple[str, bool, bool, int]]) -> Verdict:
        """The verdict for a campaign from its aggregate rows (state, complete, fallback used, count)."""
        total = ok = failed = 0
        by_state: dict[str, int] = {}
        for state, complete, fallback, n in groups:
            total += n
            succeeded = state in self.success_states and not (self.fail_on_fallback and fallback)
            if succeeded:
                ok += n
            elif complete or state in self.success_states:
                failed += n
                by_state[state] = by_state.get(state, 0) + n
        detail = ", ".join(f"{n} {state}" for state, n in sorted(by_state.items()))
        return self.evaluate_counts(
            total, ok, failed, lambda: f"not delivered: {failed} of {total} campaign messages ({detail})"
        )


def _failure_text(failed: Sequence[MessageStatus]) -> str:
    parts = []
    for status in failed[:20]:
        channels = "; ".join(status.failure_reasons()) or status.state.value
        extra = " (delivered only by fallback)" if status.fallback_used else ""
        parts.append(f"{status.vendor} message {status.message_id} to {status.recipient}: {channels}{extra}")
    more = f" (+{len(failed) - 20} more)" if len(failed) > 20 else ""
    return "not delivered: " + " | ".join(parts) + more
