"""The sending decision: send now, wait until a time, or skip with a reason. Pure: no I/O.

Everything the decision needs is an argument: the policy, the recipient, the message type, the time
(an injected clock) and the recipient's history, given as counts the caller read from the store. The
caller asks :func:`cap_scopes` what to count, counts it (under the ledger's lock, so racing workers see
each other), and passes the counts to :func:`decide`::

    scopes = cap_scopes(policy, message_type="MKT", vendor="telesign", now=now)
    history = RecipientHistory(opted_out=..., counts={s: store_count(recipient, s) for s in scopes})
    decision = decide(policy, recipient="+15551234567", message_type="MKT", now=now,
                      vendor="telesign", history=history)

Order: an opt-out skips; then a reached cap skips; then a closed window waits (or skips when it opens
beyond ``max_wait``, or never opens in all of the recipient's zones). A caller that waited decides again
when it wakes, with fresh counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from airflow_provider_messaging.policies.model import FrequencyCap, SendingPolicy, format_span, message_type_key

SkipCode = Literal["opted_out", "frequency_cap", "window_unreachable"]


@dataclass(frozen=True)
class SendNow:
    """Send at once."""

    kind: Literal["send_now"] = "send_now"

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.kind}


@dataclass(frozen=True)
class WaitUntil:
    """Send at ``at`` (UTC), when the recipient's window opens; nothing is reserved until then."""

    at: datetime
    reason: str
    kind: Literal["wait"] = "wait"

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.kind, "until": self.at.isoformat(), "reason": self.reason}


@dataclass(frozen=True)
class Skip:
    """Do not send; ``code`` is machine-readable, ``reason`` is for the record, the log and the report."""

    code: SkipCode
    reason: str
    kind: Literal["skip"] = "skip"

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.kind, "code": self.code, "reason": self.reason}


Decision = SendNow | WaitUntil | Skip


@dataclass(frozen=True)
class CapScope:
    """One count the caller must read: messages to the recipient created at or after ``since``,

    of ``vendor`` only (``None``: any vendor), of ``message_types`` only (``None``: any type) and of
    none of ``exclude_types``.
    """

    since: datetime
    vendor: str | None = None
    message_types: frozenset[str] | None = None
    exclude_types: frozenset[str] = frozenset()

    def counts(self, *, created_at: datetime, vendor: str, message_type: str | None) -> bool:
        """Whether one earlier message falls in this scope (for callers that filter in Python)."""
        if created_at < self.since or (self.vendor is not None and vendor != self.vendor):
            return False
        key = message_type_key(message_type) if message_type else None
        if self.message_types is not None and key not in self.message_types:
            return False
        return key not in self.exclude_types


@dataclass(frozen=True)
class RecipientHistory:
    """What the store knows about the recipient: opted out, and one count per :class:`CapScope`."""

    opted_out: bool = False
    counts: Mapping[CapScope, int] = field(default_factory=dict)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now.astimezone(timezone.utc)


def _scope(cap: FrequencyCap, policy: SendingPolicy, message_type: str, vendor: str | None, now: datetime) -> CapScope:
    if cap.per_message_type:
        types: frozenset[str] | None = frozenset({message_type})
        exclude: frozenset[str] = frozenset()
    elif cap.message_types is not None:
        types, exclude = frozenset(cap.message_types), frozenset()
    else:
        types, exclude = None, frozenset(policy.exempt)
    return CapScope(
        since=now - cap.period,
        vendor=vendor if cap.per_vendor else None,
        message_types=types,
        exclude_types=exclude,
    )


def cap_scopes(policy: SendingPolicy, *, message_type: str, vendor: str | None = None, now: datetime) -> list[CapScope]:
    """The counts :func:`decide` needs for a message of this type (one per applicable cap)."""
    now = _aware(now)
    key = message_type_key(message_type)
    return list(dict.fromkeys(_scope(cap, policy, key, vendor, now) for cap in policy.caps_for(key)))


def decide(
    policy: SendingPolicy,
    *,
    recipient: str,
    message_type: str,
    now: datetime,
    vendor: str | None = None,
    history: RecipientHistory | None = None,
) -> Decision:
    """Send now, wait until the recipient's window opens, or skip (opted out, capped, no window).

    ``history.counts`` must hold a count for every scope :func:`cap_scopes` returns for the same
    arguments; a missing one is an error, not a zero (a cap must never pass unchecked).
    """
    now = _aware(now)
    history = history or RecipientHistory()
    key = message_type_key(message_type)
    if history.opted_out:
        return Skip("opted_out", f"{recipient} opted out" + (f" of {vendor} messages" if vendor else ""))
    for cap in policy.caps_for(key):
        scope = _scope(cap, policy, key, vendor, now)
        if scope not in history.counts:
            raise ValueError(f"history has no count for the frequency cap {cap} (scope {scope})")
        sent = history.counts[scope]
        if sent >= cap.limit:
            return Skip("frequency_cap", f"frequency cap reached for {recipient}: {sent} sent, cap {cap}")
    window = policy.window_for(key)
    if window is None:
        return SendNow()
    from airflow_provider_messaging.policies.windows import next_open, recipient_time_zones

    zones = recipient_time_zones(recipient, policy.fallback_timezone)
    names = ", ".join(z.key for z in zones[:4]) + (f" and {len(zones) - 4} more" if len(zones) > 4 else "")
    interval = next_open(window, zones, now)
    if interval is None:
        return Skip(
            "window_unreachable",
            f"{key} window {window} is never open in all of {recipient}'s time zones at once ({names})",
        )
    opens, _ = interval
    if opens <= now:
        return SendNow()
    if policy.max_wait is not None and opens - now > policy.max_wait:
        return Skip(
            "window_unreachable",
            f"{key} window {window} ({names}) opens at {opens.isoformat()}, beyond max_wait {format_span(policy.max_wait)}",
        )
    return WaitUntil(opens, f"{key} window {window} in {names} is closed; opens at {opens.isoformat()}")
