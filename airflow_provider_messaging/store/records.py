"""The store's record types: what callers pass in and get back (no database access here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_messaging.models.status import ChannelEvent, MessageStatus
from airflow_provider_messaging.policies.decision import CapScope


class SendStatus:
    """Lifecycle of a send, recorded around the HTTP call."""

    RESERVED = "RESERVED"  # recorded before the HTTP call
    ACCEPTED = "ACCEPTED"  # the vendor returned a message id
    REJECTED = "REJECTED"  # the vendor refused or was unreachable: nothing was sent, a retry may send
    UNKNOWN = "UNKNOWN"  # the request may have reached the vendor: never re-sent blindly
    SKIPPED = "SKIPPED"  # the sending policy held it back (``error``: "code: reason"); never blocks a later send


#: What a policy skip may overwrite: a key with no row, an earlier skip, or a definite refusal.
SKIP_OVERWRITES = frozenset({SendStatus.SKIPPED, SendStatus.REJECTED})


def skip_error(code: str, reason: str) -> str:
    """The ``error`` of a SKIPPED row: the skip code first, so the report can group by it."""
    return f"{code}: {reason}"[:4000]


def skip_code(error: str | None) -> str:
    """The skip code of a SKIPPED row's ``error`` (see :func:`skip_error`)."""
    code, sep, _ = (error or "").partition(": ")
    return code if sep and code.replace("_", "").isalnum() else "unknown"


#: How long a RESERVED send counts as in flight: long enough for a hook's whole retry budget (connect
#: retries, 429/503 backoff with Retry-After, read timeouts). Within it a key is never re-sent; after it a
#: RESERVED key is treated as an unknown outcome (the sender died mid-send). ``[messaging] send_lease_seconds``.
DEFAULT_SEND_LEASE_SECONDS = 900.0


class ReservationReason:
    """Why :meth:`MessageStore.reserve_send` decided as it did."""

    NEW = "new"  # first reservation of the key: send
    RETRY = "retry"  # every earlier try was definitely not sent (or resend_unknown): send
    ACCEPTED = "accepted"  # the vendor already took this message: return its record
    IN_FLIGHT = "in_flight"  # another try holds the key's lease: do not send
    UNKNOWN = "unknown"  # an earlier try may have reached the customer: do not send
    CAPPED = "capped"  # a frequency cap of the sending policy is reached for the recipient: do not send


@dataclass(frozen=True)
class Reservation:
    """Result of :meth:`MessageStore.reserve_send`.

    ``send`` is True when the caller holds the reservation and must send now; otherwise ``existing``
    is the earlier send that decided (accepted, in flight, or with an unknown outcome) and ``reason``
    says which.
    """

    send: bool
    existing: MessageStatus | None = None
    reason: str = ReservationReason.NEW
    error: str | None = None
    reserved_at: datetime | None = None
    existing_row: dict[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CapGate:
    """Frequency caps checked inside a reservation's transaction, under a lock on the recipient.

    ``scopes`` say what to count (:func:`~airflow_provider_messaging.policies.cap_scopes`); ``admit``
    gets the counts and returns ``None`` to send or the reason of the refusal.
    """

    scopes: tuple[CapScope, ...]
    admit: Callable[[Mapping[CapScope, int]], str | None]


@dataclass(frozen=True)
class SendIntent:
    """One key to reserve in :meth:`MessageStore.reserve_many`."""

    idempotency_key: str
    vendor: str
    recipient: str
    channels: tuple[str, ...]
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: int | None = None
    campaign_id: str | None = None
    message_type: str | None = None
    gate: CapGate | None = None


@dataclass(frozen=True)
class CampaignCounts:
    """What a campaign's sent messages have come to: one row per (state, complete, fallback used)."""

    campaign_id: str
    groups: tuple[tuple[str, bool, bool, int], ...] = ()

    @property
    def sent(self) -> int:
        return sum(n for *_, n in self.groups)

    def to_dict(self) -> dict[str, Any]:
        by_state: dict[str, int] = {}
        for state, _complete, _fallback, n in self.groups:
            by_state[state] = by_state.get(state, 0) + n
        return {"campaign_id": self.campaign_id, "sent": self.sent, "by_state": by_state}


@dataclass(frozen=True)
class InboundRecord:
    """An inbound (MO) message as stored."""

    id: int
    vendor: str
    channel: str
    sender: str
    recipient: str | None
    text: str | None
    media: list[str]
    action: str | None
    keyword: str | None
    postback: str | None
    reference_id: str | None
    received_at: datetime
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vendor": self.vendor,
            "channel": self.channel,
            "sender": self.sender,
            "recipient": self.recipient,
            "text": self.text,
            "media": list(self.media),
            "action": self.action,
            "keyword": self.keyword,
            "postback": self.postback,
            "reference_id": self.reference_id,
            "received_at": self.received_at.isoformat(),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class NewInbound:
    """An inbound message parsed by the receiver, not yet stored."""

    channel: str
    sender: str
    recipient: str | None = None
    text: str | None = None
    media: tuple[str, ...] = ()
    action: str | None = None
    keyword: str | None = None
    postback: str | None = None
    reference_id: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class DeliveryRecord:
    """One parsed delivery callback, for :meth:`MessageStore.record_deliveries`."""

    vendor: str
    message_id: str
    events: tuple[ChannelEvent, ...]
    raw_body: str
