"""The message store: sends (idempotency), delivery callbacks, inbound messages and opt-outs.

Correctness comes from the database, not from process memory: every write that touches one message
runs under a per-message lock (a PostgreSQL transaction-level advisory lock; SQLite serializes
writers with ``BEGIN IMMEDIATE``), so two receivers and a worker can never lose each other's updates.
This module never imports Airflow.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from airflow_provider_messaging.exceptions import SchemaOutdatedError, StoreError, StoreUnavailableError
from airflow_provider_messaging.models.status import (
    RANK,
    ChannelAttempt,
    ChannelEvent,
    DeliveryState,
    MessageStatus,
    Summary,
    order_attempts,
    summarize,
    supersedes,
)
from airflow_provider_messaging.models.types import normalize_recipient
from airflow_provider_messaging.policies.decision import CapScope
from airflow_provider_messaging.store import migrate
from airflow_provider_messaging.store.engine import create_store_engine, is_sqlite, normalize_url
from airflow_provider_messaging.store.optout_files import OptOutEntry
from airflow_provider_messaging.store.schema import (
    callbacks,
    channel_attempts,
    consent_events,
    inbound_messages,
    messages,
    opt_outs,
    watcher_cursors,
)


class SendStatus:
    """Lifecycle of a send, recorded around the HTTP call."""

    RESERVED = "RESERVED"  # recorded before the HTTP call
    ACCEPTED = "ACCEPTED"  # the vendor returned a message id
    REJECTED = "REJECTED"  # the vendor refused or was unreachable: nothing was sent, a retry may send
    UNKNOWN = "UNKNOWN"  # the request may have reached the vendor: never re-sent blindly
    SKIPPED = "SKIPPED"  # the sending policy held it back (``error``: "code: reason"); never blocks a later send


#: What a policy skip may overwrite: a key with no row, an earlier skip, or a definite refusal.
_SKIP_OVERWRITES = frozenset({SendStatus.SKIPPED, SendStatus.REJECTED})


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


def decide_reservation(
    rows: Sequence[dict[str, Any]], now: datetime, *, lease_seconds: float, resend_unknown: bool
) -> Reservation:
    """Whether a new try may send, given the stored rows of its key (or of its failover siblings).

    Pure; the store calls it inside the locked transaction that then writes the reservation. A SKIPPED
    row (the policy held an earlier try back) never blocks: a later try the policy allows sends.
    """
    if not rows:
        return Reservation(send=True, reason=ReservationReason.NEW)
    for row in rows:
        if row["send_status"] == SendStatus.ACCEPTED:
            return Reservation(send=False, reason=ReservationReason.ACCEPTED, existing_row=row)
    lease = timedelta(seconds=lease_seconds)
    for row in rows:
        if row["send_status"] == SendStatus.RESERVED and row["updated_at"] + lease > now:
            return Reservation(
                send=False, reason=ReservationReason.IN_FLIGHT, reserved_at=row["updated_at"], existing_row=row
            )
    if not resend_unknown:
        for row in rows:
            if row["send_status"] in (SendStatus.UNKNOWN, SendStatus.RESERVED):
                return Reservation(
                    send=False, reason=ReservationReason.UNKNOWN, reserved_at=row["updated_at"], existing_row=row
                )
    return Reservation(send=True, reason=ReservationReason.RETRY)


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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


_UNAVAILABLE_HINTS = re.compile(
    r"unable to open|readonly|read-only|disk I/O|database is locked|connection|could not connect|"
    r"server closed|terminating|shutting down|no such table|not currently accepting",
    re.IGNORECASE,
)


# Statements of the callback path, built once: building a statement per call (``.values(...)``,
# ``.where(...)``) costs more CPU than executing it. Parameters are passed at execution time.
_INSERT_CALLBACK = insert(callbacks)
_INSERT_ATTEMPT = insert(channel_attempts)
_SELECT_ATTEMPTS = select(channel_attempts).where(
    and_(channel_attempts.c.vendor == bindparam("b_vendor"), channel_attempts.c.message_id == bindparam("b_message_id"))
)
_UPDATE_ATTEMPT = update(channel_attempts).where(
    and_(
        channel_attempts.c.vendor == bindparam("b_vendor"),
        channel_attempts.c.message_id == bindparam("b_message_id"),
        channel_attempts.c.channel == bindparam("b_channel"),
    )
)
_SELECT_MESSAGE = select(messages).where(
    and_(messages.c.vendor == bindparam("b_vendor"), messages.c.message_id == bindparam("b_message_id"))
)
_UPDATE_MESSAGE = update(messages).where(messages.c.id == bindparam("b_id"))
# by vendor AND message id: the unique index (vendor, message_id, channel) serves it; message_id alone
# has no index of its own on attempts, so filtering on it scans the whole table on every batch
_SELECT_ATTEMPTS_MANY = select(channel_attempts).where(
    and_(
        channel_attempts.c.vendor == bindparam("b_vendor"),
        channel_attempts.c.message_id.in_(bindparam("ids", expanding=True)),
    )
)
_SELECT_MESSAGES_MANY = select(messages).where(messages.c.message_id.in_(bindparam("ids", expanding=True)))
# Statements of the send ledger (bulk sends reserve and complete a chunk of keys at once).
_SELECT_BY_KEYS = select(messages).where(messages.c.idempotency_key.in_(bindparam("keys", expanding=True)))
# By vendor AND message id: the unique (vendor, message_id, channel) index serves it (message_id alone scans).
_SELECT_ATTEMPTED_IDS = (
    select(channel_attempts.c.vendor, channel_attempts.c.message_id)
    .where(
        (channel_attempts.c.vendor == bindparam("b_vendor"))
        & channel_attempts.c.message_id.in_(bindparam("ids", expanding=True))
    )
    .distinct()
)
_RESERVE_AGAIN = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        vendor=bindparam("b_vendor"),
        recipient=bindparam("b_recipient"),
        channels=bindparam("b_channels", type_=messages.c.channels.type),
        dag_id=bindparam("b_dag_id"),
        task_id=bindparam("b_task_id"),
        run_id=bindparam("b_run_id"),
        map_index=bindparam("b_map_index"),
        campaign_id=bindparam("b_campaign_id"),
        updated_at=bindparam("b_now", type_=messages.c.updated_at.type),
        message_id=None,
        send_status=SendStatus.RESERVED,
        state=DeliveryState.QUEUED.value,
        complete=False,
        delivered_channel=None,
        attempts=None,
        completed_at=None,
        error=None,
    )
)
_COMPLETE = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        message_id=bindparam("b_message_id"),
        send_status=SendStatus.ACCEPTED,
        updated_at=bindparam("b_now", type_=messages.c.updated_at.type),
        error=None,
    )
)
# Only a send still in flight can fail: a key that another try completed meanwhile keeps its record.
_FAIL = (
    update(messages)
    .where((messages.c.idempotency_key == bindparam("b_key")) & (messages.c.send_status == SendStatus.RESERVED))
    .values(
        send_status=bindparam("b_status"),
        error=bindparam("b_error"),
        updated_at=bindparam("b_now", type_=messages.c.updated_at.type),
    )
)
# One round trip locks every message of a batch, in a fixed order (no lock cycles between batches).
_LOCK_MANY = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"
)


@dataclass(frozen=True)
class DeliveryRecord:
    """One parsed delivery callback, for :meth:`MessageStore.record_deliveries`."""

    vendor: str
    message_id: str
    events: tuple[ChannelEvent, ...]
    raw_body: str


class MessageStore:
    """Persistence for messages, channel attempts, raw callbacks, inbound messages and opt-outs."""

    def __init__(self, url: str):
        self.url = normalize_url(url)
        self.sqlite = is_sqlite(self.url)
        self.engine = create_store_engine(self.url, writer=True)
        # SQLite readers must not take the write lock; PostgreSQL uses one engine for both.
        self.read_engine = create_store_engine(self.url, writer=False) if self.sqlite else self.engine
        # SQLite has one writer at a time. Threads of this process queue on this lock instead of on the
        # database lock, whose busy handler polls with sleeps of up to 100 ms (other processes still do).
        self._sqlite_writer = threading.Lock() if self.sqlite else None

    # ------------------------------------------------------------------ schema
    def upgrade(self) -> None:
        """Create or migrate the schema to the newest version."""
        with self._guard():
            migrate.upgrade(self.engine)

    def schema_is_current(self) -> bool:
        with self._guard():
            return migrate.current_revision(self.read_engine) == migrate.head_revision()

    def ensure_schema(self, *, auto_upgrade: bool) -> None:
        """Check the schema version; migrate when allowed, else raise :class:`SchemaOutdatedError`."""
        if self.schema_is_current():
            return
        if not auto_upgrade:
            raise SchemaOutdatedError(
                f"The message store at {self.safe_url} is not at schema {migrate.head_revision()}: "
                "run `airflow-messaging db upgrade`."
            )
        self.upgrade()

    @property
    def safe_url(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn "database is down / unwritable" into :class:`StoreUnavailableError`."""
        try:
            yield
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            if (
                isinstance(exc, OperationalError)
                or exc.connection_invalidated
                or _UNAVAILABLE_HINTS.search(str(exc.orig))
            ):
                raise StoreUnavailableError(f"message store unavailable: {type(exc.orig).__name__}") from exc
            raise

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._sqlite_writer is None:
            with self._guard(), self.engine.begin() as connection:
                yield connection
            return
        with self._sqlite_writer, self._guard(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._guard(), self.read_engine.connect() as connection:
            yield connection

    def _lock(self, connection: Connection, key: str) -> None:
        """Serialize writers of one key until the transaction ends (SQLite: already serialized by BEGIN IMMEDIATE)."""
        if not self.sqlite:
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    def _lock_message(self, connection: Connection, vendor: str, message_id: str) -> None:
        """Serialize writers of one message."""
        self._lock(connection, f"{vendor}:{message_id}")

    def _lock_opt_out(self, connection: Connection, vendor: str, recipient: str) -> None:
        """Serialize check-then-write of one opt-out entry (taken after any other lock: no lock cycles)."""
        self._lock(connection, f"opt-out:{vendor}:{recipient}")

    # ------------------------------------------------------------------ sends (storage of the send ledger)
    def _lock_send(self, connection: Connection, keys: Sequence[str]) -> None:
        """Serialize reservations of these ledger keys (sorted: concurrent batches cannot deadlock)."""
        if self.sqlite or not keys:
            return  # BEGIN IMMEDIATE already made this transaction the only writer
        if len(keys) == 1:
            self._lock(connection, f"send:{keys[0]}")
        else:
            connection.execute(_LOCK_MANY, {"keys": sorted({f"send:{k}" for k in keys})})

    def reserve_send(
        self,
        *,
        idempotency_key: str,
        vendor: str,
        recipient: str,
        channels: Sequence[str],
        dag_id: str | None = None,
        task_id: str | None = None,
        run_id: str | None = None,
        map_index: int | None = None,
        resend_unknown: bool = False,
        lease_seconds: float = DEFAULT_SEND_LEASE_SECONDS,
        logical_key: str | None = None,
        attempt: int | None = None,
        message_type: str | None = None,
        gate: CapGate | None = None,
        after_failure: tuple[str, str, bool] | None = None,
    ) -> Reservation:
        """Record the intent to send before the HTTP call. Exactly one caller wins a key.

        The check and the write run in one transaction under a lock on the key (a PostgreSQL
        transaction-level advisory lock; SQLite's single writer), so concurrent callers - a zombie
        task and its retry, two runs sharing an explicit key - see each other's reservation. The
        earlier rows decide (see :func:`decide_reservation`): a send is allowed for a new key, after a
        definite rejection, or after an unknown outcome when ``resend_unknown`` is set; a send still in
        flight (RESERVED within ``lease_seconds``) is never re-sent.

        ``logical_key``/``attempt`` link the vendor messages of one failover send: the lock and the
        decision then cover every vendor message of the logical key, so two tries of one logical
        message never send through two vendors at once. ``after_failure`` (key, error, outcome_unknown)
        records the previous step's failure in the same transaction, so a failover chain holds a RESERVED
        step from its first reservation to its end and no concurrent try can start another chain.

        ``gate`` applies a sending policy's frequency caps in the same transaction, under a lock on the
        recipient: racing sends to one recipient (other keys, other workers) count each other.
        """
        now = utcnow()
        values = {
            "vendor": vendor,
            "message_id": None,
            "idempotency_key": idempotency_key,
            "recipient": recipient,
            "channels": list(channels),
            "send_status": SendStatus.RESERVED,
            "state": DeliveryState.QUEUED.value,
            "complete": False,
            "delivered_channel": None,
            "attempts": None,
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": run_id,
            "map_index": map_index,
            "created_at": now,
            "updated_at": now,
            "completed_at": None,
            "error": None,
        }
        if logical_key is not None:
            values.update(logical_key=logical_key, attempt=attempt)
        if message_type is not None:
            values["message_type"] = message_type
        with self._write() as connection:
            self._lock_send(connection, [logical_key or idempotency_key])
            if after_failure is not None:
                failed_key, error, unknown = after_failure
                connection.execute(_FAIL, [self._failure_values(failed_key, error, unknown, now)])
            if logical_key is None:
                query = select(messages).where(messages.c.idempotency_key == idempotency_key)
            else:
                query = select(messages).where(
                    (messages.c.logical_key == logical_key) | (messages.c.idempotency_key == idempotency_key)
                )
            rows = [dict(r._mapping) for r in connection.execute(query).all()]
            reservation = decide_reservation(rows, now, lease_seconds=lease_seconds, resend_unknown=resend_unknown)
            if not reservation.send:
                return self._finish_reservation(reservation)
            if gate is not None and gate.scopes:
                self._lock_caps(connection, [recipient])
                counts = self._cap_counts(connection, {recipient: gate.scopes}, exclude_keys={idempotency_key})
                refusal = gate.admit(counts[recipient])
                if refusal is not None:
                    own = next((r for r in rows if r["idempotency_key"] == idempotency_key), None)
                    skipped = {
                        **values,
                        "send_status": SendStatus.SKIPPED,
                        "error": skip_error("frequency_cap", refusal),
                    }
                    self._write_skip(connection, own, skipped)
                    return Reservation(send=False, reason=ReservationReason.CAPPED, error=refusal)
            own = next((r for r in rows if r["idempotency_key"] == idempotency_key), None)
            if own is None:
                connection.execute(insert(messages).values(**values))
            else:
                if own["send_status"] != SendStatus.SKIPPED:
                    values.pop("created_at")  # a skipped key sends now: it counts for the caps from now
                connection.execute(update(messages).where(messages.c.id == own["id"]).values(**values))
        return reservation

    def reserve_many(
        self,
        requests: Sequence[SendIntent],
        *,
        resend_unknown: bool = False,
        lease_seconds: float = DEFAULT_SEND_LEASE_SECONDS,
    ) -> list[Reservation]:
        """:meth:`reserve_send` for many keys in ONE transaction (bulk sends): one commit per chunk.

        Keys must be distinct and plain (no failover). Returns one reservation per request, in order.
        """
        if not requests:
            return []
        keys = [r.idempotency_key for r in requests]
        if len(set(keys)) != len(keys):
            raise ValueError("reserve_many: idempotency keys must be distinct")
        now = utcnow()
        with self._write() as connection:
            self._lock_send(connection, keys)
            existing = {
                row.idempotency_key: dict(row._mapping)
                for row in connection.execute(_SELECT_BY_KEYS, {"keys": keys}).all()
            }
            gated = {r.recipient: r.gate.scopes for r in requests if r.gate is not None and r.gate.scopes}
            if gated:
                self._lock_caps(connection, list(gated))
            recent = self._recent_sends(connection, gated, exclude_keys=set(keys)) if gated else {}
            reservations: list[Reservation] = []
            recounted: list[int] = []
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for request in requests:
                row = existing.get(request.idempotency_key)
                decision = decide_reservation(
                    [row] if row else [], now, lease_seconds=lease_seconds, resend_unknown=resend_unknown
                )
                if decision.send and request.gate is not None and request.recipient in gated:
                    sends = recent.setdefault(request.recipient, [])
                    refusal = request.gate.admit(_count(sends, request.gate.scopes))
                    if refusal is not None:
                        reservations.append(Reservation(send=False, reason=ReservationReason.CAPPED, error=refusal))
                        self._write_skip(
                            connection, row, self._skip_values(request, skip_error("frequency_cap", refusal), now)
                        )
                        continue
                    sends.append((now, request.vendor, request.message_type))  # counts for a later request
                reservations.append(self._finish_reservation(decision))
                if not decision.send:
                    continue
                values = {
                    "b_vendor": request.vendor,
                    "b_recipient": request.recipient,
                    "b_channels": list(request.channels),
                    "b_dag_id": request.dag_id,
                    "b_task_id": request.task_id,
                    "b_run_id": request.run_id,
                    "b_map_index": request.map_index,
                    "b_campaign_id": request.campaign_id,
                    "b_now": now,
                }
                if row is None:
                    inserts.append(
                        {
                            "vendor": request.vendor,
                            "message_id": None,
                            "idempotency_key": request.idempotency_key,
                            "recipient": request.recipient,
                            "channels": list(request.channels),
                            "send_status": SendStatus.RESERVED,
                            "state": DeliveryState.QUEUED.value,
                            "complete": False,
                            "dag_id": request.dag_id,
                            "task_id": request.task_id,
                            "run_id": request.run_id,
                            "map_index": request.map_index,
                            "campaign_id": request.campaign_id,
                            "message_type": request.message_type,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                else:
                    updates.append({"b_id": row["id"], **values})
                    if row["send_status"] == SendStatus.SKIPPED:
                        recounted.append(row["id"])
            if inserts:
                connection.execute(insert(messages), inserts)
            if updates:
                connection.execute(_RESERVE_AGAIN, updates)
            if recounted:  # a skipped key sends now: it counts for the caps from now
                connection.execute(update(messages).where(messages.c.id.in_(recounted)).values(created_at=now))
        return reservations

    # ---- sends the sending policy held back
    @staticmethod
    def _skip_values(intent: SendIntent, error: str, now: datetime) -> dict[str, Any]:
        return {
            "vendor": intent.vendor,
            "message_id": None,
            "idempotency_key": intent.idempotency_key,
            "recipient": intent.recipient,
            "channels": list(intent.channels),
            "send_status": SendStatus.SKIPPED,
            "state": DeliveryState.QUEUED.value,
            "complete": False,
            "delivered_channel": None,
            "attempts": None,
            "dag_id": intent.dag_id,
            "task_id": intent.task_id,
            "run_id": intent.run_id,
            "map_index": intent.map_index,
            "campaign_id": intent.campaign_id,
            "message_type": intent.message_type,
            "created_at": now,
            "updated_at": now,
            "completed_at": None,
            "error": error,
        }

    @staticmethod
    def _write_skip(connection: Connection, own: Mapping[str, Any] | None, values: dict[str, Any]) -> bool:
        """Record a policy skip of a key, unless the key's row says more (accepted, in flight, unknown)."""
        if own is None:
            connection.execute(insert(messages).values(**values))
            return True
        if own["send_status"] not in _SKIP_OVERWRITES:
            return False
        values = {k: v for k, v in values.items() if k not in ("created_at", "logical_key", "attempt")}
        connection.execute(update(messages).where(messages.c.id == own["id"]).values(**values))
        return True

    def record_skips(self, skips: Sequence[tuple[SendIntent, str, str]]) -> int:
        """:meth:`record_skip` for many ``(intent, code, reason)`` in ONE transaction (bulk sends); a key
        listed twice is recorded once (its last reason). Returns how many skips were written."""
        by_key = {intent.idempotency_key: (intent, code, reason) for intent, code, reason in skips}
        if not by_key:
            return 0
        now = utcnow()
        written = 0
        with self._write() as connection:
            self._lock_send(connection, list(by_key))
            existing = {
                row.idempotency_key: dict(row._mapping)
                for row in connection.execute(_SELECT_BY_KEYS, {"keys": list(by_key)}).all()
            }
            for key, (intent, code, reason) in by_key.items():
                values = self._skip_values(intent, skip_error(code, reason), now)
                written += self._write_skip(connection, existing.get(key), values)
        return written

    def record_skip(
        self, intent: SendIntent, *, code: str, reason: str, logical_key: str | None = None, attempt: int | None = None
    ) -> bool:
        """Record that the sending policy skipped ``intent`` (a SKIPPED row; ``error`` is "code: reason"),
        under the key's lock like a reservation. A key already accepted, in flight or with an unknown
        outcome keeps its row. Returns whether the skip was written."""
        values = self._skip_values(intent, skip_error(code, reason), utcnow())
        if logical_key is not None:
            values.update(logical_key=logical_key, attempt=attempt)
        with self._write() as connection:
            self._lock_send(connection, [logical_key or intent.idempotency_key])
            own = connection.execute(
                select(messages).where(messages.c.idempotency_key == intent.idempotency_key)
            ).first()
            return self._write_skip(connection, dict(own._mapping) if own else None, values)

    # ---- frequency caps of the sending policy
    def _lock_caps(self, connection: Connection, recipients: Sequence[str]) -> None:
        """Serialize cap checks of these recipients (after the send-key locks; sorted: no lock cycles)."""
        if self.sqlite or not recipients:
            return
        connection.execute(_LOCK_MANY, {"keys": sorted({f"cap:{r}" for r in recipients})})

    def _recent_sends(
        self, connection: Connection, scopes: Mapping[str, Sequence[CapScope]], *, exclude_keys: set[str]
    ) -> dict[str, list[tuple[datetime, str, str | None]]]:
        """``(created_at, vendor, message_type)`` of each recipient's messages that count for a cap:
        created since the oldest scope's start, not definitely refused by the vendor nor skipped by a policy."""
        since = min(s.since for group in scopes.values() for s in group)
        rows = connection.execute(
            select(messages.c.recipient, messages.c.created_at, messages.c.vendor, messages.c.message_type).where(
                messages.c.recipient.in_(list(scopes)),
                messages.c.created_at >= since,
                messages.c.send_status.not_in([SendStatus.REJECTED, SendStatus.SKIPPED]),
                messages.c.idempotency_key.not_in(exclude_keys),
            )
        ).all()
        out: dict[str, list[tuple[datetime, str, str | None]]] = {r: [] for r in scopes}
        for row in rows:
            out[row.recipient].append((row.created_at, row.vendor, row.message_type))
        return out

    def _cap_counts(
        self, connection: Connection, scopes: Mapping[str, Sequence[CapScope]], *, exclude_keys: set[str]
    ) -> dict[str, dict[CapScope, int]]:
        recent = self._recent_sends(connection, scopes, exclude_keys=exclude_keys)
        return {recipient: _count(recent[recipient], group) for recipient, group in scopes.items()}

    def count_recent_sends(
        self, recipient: str, scopes: Sequence[CapScope], *, exclude_key: str | None = None
    ) -> dict[CapScope, int]:
        """Messages to ``recipient`` per cap scope (a read, without locks: for previews and pre-checks;
        the reservation counts again under the recipient's lock)."""
        if not scopes:
            return {}
        with self._read() as connection:
            counts = self._cap_counts(
                connection, {recipient: scopes}, exclude_keys={exclude_key} if exclude_key else set()
            )
        return counts[recipient]

    def count_recent_sends_many(
        self, scopes: Mapping[str, Sequence[CapScope]], *, exclude_keys: Iterable[str] = ()
    ) -> dict[str, dict[CapScope, int]]:
        """:meth:`count_recent_sends` for many recipients in one query (bulk pre-checks)."""
        if not scopes:
            return {}
        with self._read() as connection:
            return self._cap_counts(connection, scopes, exclude_keys=set(exclude_keys))

    def _finish_reservation(self, reservation: Reservation) -> Reservation:
        if reservation.existing_row is None:
            return reservation
        return Reservation(
            send=reservation.send,
            reason=reservation.reason,
            existing=self._status_from_row(reservation.existing_row),
            error=reservation.existing_row.get("error"),
            reserved_at=reservation.reserved_at,
        )

    def complete_send(self, idempotency_key: str, message_id: str) -> MessageStatus:
        """Record the vendor's message id; callbacks that arrived first are reconciled here."""
        return self.complete_many([(idempotency_key, message_id)])[idempotency_key]

    def complete_many(self, completions: Sequence[tuple[str, str]]) -> dict[str, MessageStatus]:
        """Record the vendor ids of many sends in ONE transaction; returns each key's status.

        Callbacks may arrive before the send is recorded (the receiver keeps them by vendor id): those
        messages are re-summarized here, under the same per-message locks the receiver takes.
        """
        if not completions:
            return {}
        now = utcnow()
        keys = [key for key, _ in completions]
        with self._write() as connection:
            rows = {
                row.idempotency_key: dict(row._mapping)
                for row in connection.execute(_SELECT_BY_KEYS, {"keys": keys}).all()
            }
            missing = [key for key in keys if key not in rows]
            if missing:
                raise StoreError(f"no reservation for idempotency key {missing[0]!r}")
            ids = {key: message_id for key, message_id in completions}
            if not self.sqlite:
                locks = sorted({f"{rows[key]['vendor']}:{mid}" for key, mid in ids.items()})
                connection.execute(_LOCK_MANY, {"keys": locks})
            connection.execute(
                _COMPLETE,
                [{"b_id": rows[key]["id"], "b_message_id": mid, "b_now": now} for key, mid in ids.items()],
            )
            by_vendor: dict[str, set[str]] = {}
            for key, mid in ids.items():
                by_vendor.setdefault(rows[key]["vendor"], set()).add(mid)
            early = {
                (row.vendor, row.message_id)
                for vendor, mids in by_vendor.items()
                for row in connection.execute(_SELECT_ATTEMPTED_IDS, {"b_vendor": vendor, "ids": sorted(mids)}).all()
            }
            statuses: dict[str, MessageStatus] = {}
            for key, mid in ids.items():
                mapping = rows[key]
                mapping.update(message_id=mid, send_status=SendStatus.ACCEPTED, updated_at=now, error=None)
                refreshed = None
                if (mapping["vendor"], mid) in early:
                    refreshed = self._refresh(connection, mapping["vendor"], mid, now)
                statuses[key] = refreshed or self._status_from_row(mapping)
        return statuses

    def fail_send(self, idempotency_key: str, error: str, *, outcome_unknown: bool) -> None:
        """Record a failed send: REJECTED (safe to retry) or UNKNOWN (never re-sent blindly)."""
        self.fail_many([(idempotency_key, error, outcome_unknown)])

    def fail_many(self, failures: Sequence[tuple[str, str, bool]]) -> None:
        """Record many failed sends (key, error, outcome_unknown) in ONE transaction."""
        if not failures:
            return
        now = utcnow()
        with self._write() as connection:
            connection.execute(_FAIL, [self._failure_values(k, e, u, now) for k, e, u in failures])

    @staticmethod
    def _failure_values(key: str, error: str, unknown: bool, now: datetime) -> dict[str, Any]:
        return {
            "b_key": key,
            "b_status": SendStatus.UNKNOWN if unknown else SendStatus.REJECTED,
            "b_error": error[:4000],
            "b_now": now,
        }

    def release_send(self, idempotency_key: str, *, note: str) -> MessageStatus | None:
        """Mark a stuck key (RESERVED or UNKNOWN) as REJECTED so that its next try sends.

        For an operator of Airflow who checked with the vendor that nothing was sent; returns the
        status before the change, or None when the key is unknown. An ACCEPTED key is never released.
        """
        with self._write() as connection:
            self._lock_send(connection, [idempotency_key])
            row = connection.execute(select(messages).where(messages.c.idempotency_key == idempotency_key)).first()
            if row is None:
                return None
            before = self._status_from_row(row._mapping)
            if row.send_status in (SendStatus.RESERVED, SendStatus.UNKNOWN):
                connection.execute(
                    update(messages)
                    .where(messages.c.id == row.id)
                    .values(send_status=SendStatus.REJECTED, error=f"released: {note}"[:4000], updated_at=utcnow())
                )
            return before

    # ------------------------------------------------------------------ callbacks
    def record_delivery(
        self, *, vendor: str, message_id: str, events: Sequence[ChannelEvent], raw_body: str
    ) -> MessageStatus | None:
        """Store one delivery callback and apply its channel events monotonically, in one transaction.

        Returns the message's new status, or None when the send is not recorded yet (it is
        reconciled by :meth:`complete_send`).
        """
        return self.record_deliveries([DeliveryRecord(vendor, message_id, tuple(events), raw_body)])[0]

    def record_deliveries(self, records: Sequence[DeliveryRecord]) -> list[MessageStatus | None]:
        """Store many delivery callbacks in ONE transaction (group commit), in order.

        The receiver batches concurrent callbacks here so that one commit (one fsync) serves many of
        them; each is answered only after this returns. A constant number of statements per batch:
        lock every message (sorted, so concurrent batches cannot deadlock), insert the raw bodies,
        read and write the attempts and summaries of all messages at once.
        """
        if not records:
            return []
        now = utcnow()
        keys = sorted({(r.vendor, r.message_id) for r in records})
        ids = sorted({r.message_id for r in records})
        ids_by_vendor: dict[str, list[str]] = {}
        for vendor, message_id in keys:
            ids_by_vendor.setdefault(vendor, []).append(message_id)
        with self._write() as connection:
            if not self.sqlite:
                connection.execute(_LOCK_MANY, {"keys": [f"{v}:{m}" for v, m in keys]})
            connection.execute(
                _INSERT_CALLBACK,
                [
                    {
                        "vendor": r.vendor,
                        "kind": "status",
                        "message_id": r.message_id,
                        "body": r.raw_body,
                        "body_sha256": _sha256(r.raw_body),
                        "received_at": now,
                    }
                    for r in records
                ],
            )
            stored: dict[tuple[str, str], dict[str, ChannelAttempt]] = {key: {} for key in keys}
            for vendor, vendor_ids in ids_by_vendor.items():
                for row in connection.execute(_SELECT_ATTEMPTS_MANY, {"b_vendor": vendor, "ids": vendor_ids}):
                    stored[(row.vendor, row.message_id)][row.channel] = _attempt_from_row(row._mapping)
            inserts: dict[tuple[str, str, str], dict[str, Any]] = {}
            updates: dict[tuple[str, str, str], dict[str, Any]] = {}
            for record in records:
                current = stored[(record.vendor, record.message_id)]
                for event in record.events:
                    old = current.get(event.channel)
                    if old is not None and not supersedes(event.state, event.occurred_at, old.state, old.updated_on):
                        continue
                    values = {
                        "state": event.state.value,
                        "code": event.code,
                        "description": event.description,
                        "channel_reference_id": event.channel_reference_id,
                        "updated_on": event.occurred_at,
                        "updated_at": now,
                    }
                    key = (record.vendor, record.message_id, event.channel)
                    if key in inserts:
                        inserts[key].update(values)
                    elif old is None:
                        inserts[key] = {
                            "vendor": record.vendor,
                            "message_id": record.message_id,
                            "channel": event.channel,
                            "created_at": now,
                            **values,
                        }
                    else:
                        updates[key] = {
                            "b_vendor": record.vendor,
                            "b_message_id": record.message_id,
                            "b_channel": event.channel,
                            **values,
                        }
                    current[event.channel] = ChannelAttempt(
                        event.channel,
                        event.state,
                        event.code,
                        event.description,
                        event.channel_reference_id,
                        event.occurred_at,
                    )
            if inserts:
                connection.execute(_INSERT_ATTEMPT, list(inserts.values()))
            if updates:
                connection.execute(_UPDATE_ATTEMPT, list(updates.values()))
            statuses: dict[tuple[str, str], MessageStatus] = {}
            message_updates: list[dict[str, Any]] = []
            for row in connection.execute(_SELECT_MESSAGES_MANY, {"ids": ids}):
                message_key = (row.vendor, row.message_id)
                if message_key not in stored:
                    continue
                mapping = dict(row._mapping)
                changes = self._summary_changes(mapping, stored[message_key], now)
                if changes:
                    message_updates.append({"b_id": mapping["id"], **changes})
                    mapping.update(changes)
                statuses[message_key] = self._status_from_row(mapping)
            if message_updates:
                connection.execute(_UPDATE_MESSAGE, message_updates)
        return [statuses.get((r.vendor, r.message_id)) for r in records]

    @staticmethod
    def _summary_changes(mapping: dict[str, Any], attempts: dict[str, ChannelAttempt], now: datetime) -> dict[str, Any]:
        """Column changes of a message row whose attempts are ``attempts`` (empty when nothing changes)."""
        cascade = list(mapping["channels"] or [])
        summary = summarize(cascade, attempts)
        previous = DeliveryState(mapping["state"])
        if not summary.complete and RANK[summary.state] < RANK[previous]:
            # a first channel failing while the fallback runs must not move the message backwards
            summary = Summary(previous, False, None)
        changes: dict[str, Any] = {
            "state": summary.state.value,
            "complete": summary.complete,
            "delivered_channel": summary.delivered_channel,
            "attempts": [a.to_dict() for a in order_attempts(cascade, attempts.values())],
        }
        if summary.complete and mapping["completed_at"] is None:
            changes["completed_at"] = now
        if all(mapping.get(k) == v for k, v in changes.items()):
            return {}
        changes["updated_at"] = now
        return changes

    def _load_attempts(self, connection: Connection, vendor: str, message_id: str) -> dict[str, ChannelAttempt]:
        rows = connection.execute(_SELECT_ATTEMPTS, {"b_vendor": vendor, "b_message_id": message_id}).all()
        return {row.channel: _attempt_from_row(row._mapping) for row in rows}

    def _refresh(self, connection: Connection, vendor: str, message_id: str, now: datetime) -> MessageStatus | None:
        """Recompute the message summary from its attempts (caller holds the message lock)."""
        row = connection.execute(_SELECT_MESSAGE, {"b_vendor": vendor, "b_message_id": message_id}).first()
        if row is None:
            return None
        mapping = dict(row._mapping)
        changes = self._summary_changes(mapping, self._load_attempts(connection, vendor, message_id), now)
        if changes:
            connection.execute(_UPDATE_MESSAGE, {"b_id": mapping["id"], **changes})
            mapping.update(changes)
        return self._status_from_row(mapping)

    # ------------------------------------------------------------------ reads
    @staticmethod
    def _status_from_row(row: Any) -> MessageStatus:
        attempts = [
            ChannelAttempt(
                channel=a["channel"],
                state=DeliveryState(a["state"]),
                code=a.get("code"),
                description=a.get("description"),
                channel_reference_id=a.get("channel_reference_id"),
                updated_on=datetime.fromisoformat(a["updated_on"]) if a.get("updated_on") else None,
            )
            for a in (row["attempts"] or [])
        ]
        return MessageStatus(
            vendor=row["vendor"],
            message_id=row["message_id"] or "",
            state=DeliveryState(row["state"]),
            complete=bool(row["complete"]),
            delivered_channel=row["delivered_channel"],
            channels=list(row["channels"] or []),
            attempts=attempts,
            recipient=row["recipient"],
            idempotency_key=row["idempotency_key"],
            send_status=row["send_status"],
            error=row["error"],
            created_at=row["created_at"],
            completed_at=row["completed_at"],
            dag_id=row["dag_id"],
            task_id=row["task_id"],
            run_id=row["run_id"],
        )

    def get_status(self, message_id: str, vendor: str | None = None) -> MessageStatus | None:
        """The status of one message by vendor id (or idempotency key), or None if unknown."""
        query = select(messages).where(
            (messages.c.message_id == message_id) | (messages.c.idempotency_key == message_id)
        )
        if vendor:
            query = query.where(messages.c.vendor == vendor)
        with self._read() as connection:
            row = connection.execute(query.limit(1)).first()
        return self._status_from_row(row._mapping) if row else None

    def get_statuses(self, message_ids: Iterable[str]) -> dict[str, MessageStatus]:
        """Statuses of many messages in ONE query (the batched read of the delivery trigger).

        An id may also be the logical key of a failover send: it maps to the status of its vendor
        messages taken together (see :func:`logical_status`).
        """
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return {}
        query = select(messages).where(messages.c.message_id.in_(ids) | messages.c.logical_key.in_(ids))
        with self._read() as connection:
            rows = connection.execute(query).all()
        return _by_requested_id(ids, rows, self._status_from_row)

    def get_settled(self, message_ids: Iterable[str], success_states: Iterable[str]) -> dict[str, MessageStatus]:
        """Of these messages, the ones whose wait is over: complete, or in one of ``success_states``.

        ONE query; the database filters, so a poll over 10,000 pending messages returns only the
        few that changed the outcome (the delivery trigger's hot path). Logical keys of failover sends
        are resolved too (their few vendor rows are all read, then combined).
        """
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return {}
        states = list(success_states)
        query = select(messages).where(
            (messages.c.message_id.in_(ids) & ((messages.c.complete.is_(True)) | (messages.c.state.in_(states))))
            | messages.c.logical_key.in_(ids)
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        found = _by_requested_id(ids, rows, self._status_from_row)
        return {k: v for k, v in found.items() if v.complete or v.state.value in states}

    def campaign_counts(self, campaign_ids: Iterable[str]) -> dict[str, CampaignCounts]:
        """What the sent messages of these campaigns have come to, in ONE aggregate query.

        Groups by campaign, state, completeness and whether a fallback channel delivered: a handful of
        rows whatever the campaign's size (the delivery trigger's read for a campaign handle).
        """
        ids = list(dict.fromkeys(campaign_ids))
        if not ids:
            return {}
        primary = messages.c.channels[0].as_string()
        fallback = (messages.c.delivered_channel.is_not(None)) & (messages.c.delivered_channel != primary)
        query = (
            select(
                messages.c.campaign_id, messages.c.state, messages.c.complete, fallback.label("fallback"), func.count()
            )
            .where(messages.c.campaign_id.in_(ids) & (messages.c.send_status == SendStatus.ACCEPTED))
            .group_by(messages.c.campaign_id, messages.c.state, messages.c.complete, fallback)
        )
        groups: dict[str, list[tuple[str, bool, bool, int]]] = {cid: [] for cid in ids}
        with self._read() as connection:
            for campaign_id, state, complete, used_fallback, n in connection.execute(query).all():
                groups[campaign_id].append((state, bool(complete), bool(used_fallback), int(n)))
        return {cid: CampaignCounts(cid, tuple(rows)) for cid, rows in groups.items()}

    def campaign_sends(self, campaign_id: str) -> dict[str, int]:
        """How many of a campaign's recipients are in each send status (RESERVED, ACCEPTED, REJECTED, UNKNOWN)."""
        query = (
            select(messages.c.send_status, func.count())
            .where(messages.c.campaign_id == campaign_id)
            .group_by(messages.c.send_status)
        )
        with self._read() as connection:
            return {status: int(n) for status, n in connection.execute(query).all()}

    def logical_history(self, logical_key: str) -> list[dict[str, Any]]:
        """Every vendor attempt of one failover send, in the order tried (vendor, key, send status, state, error)."""
        query = select(messages).where(messages.c.logical_key == logical_key).order_by(messages.c.attempt)
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [
            {
                "attempt": r.attempt,
                "vendor": r.vendor,
                "idempotency_key": r.idempotency_key,
                "message_id": r.message_id,
                "send_status": r.send_status,
                "state": r.state,
                "complete": bool(r.complete),
                "delivered_channel": r.delivered_channel,
                "channels": list(r.channels or []),
                "error": r.error,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]

    def messages_between(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        """Every message row created in ``[since, until)`` with its attempts (analytics input), oldest first."""
        query = select(messages).order_by(messages.c.id)
        if since is not None:
            query = query.where(messages.c.created_at >= since)
        if until is not None:
            query = query.where(messages.c.created_at < until)
        with self._read() as connection:
            return [dict(r._mapping) for r in connection.execute(query).all()]

    def inbound_between(self, since: datetime | None, until: datetime | None) -> list[InboundRecord]:
        """Every inbound message received in ``[since, until)``, oldest first (analytics input)."""
        query = select(inbound_messages).order_by(inbound_messages.c.id)
        if since is not None:
            query = query.where(inbound_messages.c.created_at >= since)
        if until is not None:
            query = query.where(inbound_messages.c.created_at < until)
        with self._read() as connection:
            return [_inbound_from_row(r._mapping) for r in connection.execute(query).all()]

    # ------------------------------------------------------------------ asset watchers
    def claim_inbound(
        self,
        watcher: str,
        matches: Callable[[InboundRecord], bool],
        *,
        start: str = "latest",
        batch: int = 200,
    ) -> tuple[InboundRecord | None, int]:
        """Advance ``watcher``'s cursor past the next inbound message that ``matches``; return it.

        In ONE transaction under a per-watcher lock: read the cursor (created on first use at the
        newest inbound id with ``start="latest"``, or 0 with ``"earliest"``), scan up to ``batch``
        newer messages, and move the cursor to the first match (or past all non-matching ones). A
        message is therefore claimed by at most one caller, ever: a restarted or duplicated trigger
        continues after it. Returns ``(record or None, cursor)``.
        """
        if start not in ("latest", "earliest"):
            raise ValueError("start must be 'latest' or 'earliest'")
        now = utcnow()
        with self._write() as connection:
            self._lock(connection, f"watcher:{watcher}")
            cursor = connection.execute(
                select(watcher_cursors.c.last_inbound_id).where(watcher_cursors.c.watcher == watcher)
            ).scalar_one_or_none()
            if cursor is None:
                cursor = 0
                if start == "latest":
                    cursor = int(
                        connection.execute(select(func.coalesce(func.max(inbound_messages.c.id), 0))).scalar_one()
                    )
                connection.execute(
                    insert(watcher_cursors).values(
                        watcher=watcher, last_inbound_id=cursor, events=0, created_at=now, updated_at=now
                    )
                )
                return None, cursor
            rows = connection.execute(
                select(inbound_messages)
                .where(inbound_messages.c.id > cursor)
                .order_by(inbound_messages.c.id)
                .limit(batch)
            ).all()
            found: InboundRecord | None = None
            new_cursor = cursor
            for row in rows:
                record = _inbound_from_row(row._mapping)
                new_cursor = record.id
                if matches(record):
                    found = record
                    break
            if new_cursor != cursor:
                connection.execute(
                    update(watcher_cursors)
                    .where(and_(watcher_cursors.c.watcher == watcher, watcher_cursors.c.last_inbound_id == cursor))
                    .values(
                        last_inbound_id=new_cursor,
                        events=watcher_cursors.c.events + (1 if found else 0),
                        updated_at=now,
                    )
                )
            return found, new_cursor

    def watcher_cursor(self, watcher: str) -> dict[str, Any] | None:
        """A watcher's cursor row (``last_inbound_id``, ``events``), or None before its first poll."""
        with self._read() as connection:
            row = connection.execute(select(watcher_cursors).where(watcher_cursors.c.watcher == watcher)).first()
        return dict(row._mapping) if row else None

    def list_messages(
        self,
        *,
        vendor: str | None = None,
        state: str | None = None,
        dag_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[MessageStatus]:
        query = select(messages).order_by(messages.c.id.desc()).limit(limit)
        if vendor:
            query = query.where(messages.c.vendor == vendor)
        if state:
            query = query.where(messages.c.state == state)
        if dag_id:
            query = query.where(messages.c.dag_id == dag_id)
        if since:
            query = query.where(messages.c.created_at >= since)
        if until:
            query = query.where(messages.c.created_at < until)
        with self._read() as connection:
            return [self._status_from_row(r._mapping) for r in connection.execute(query).all()]

    def callbacks_for(self, message_id: str) -> list[dict[str, Any]]:
        """Every raw callback stored for a message id, oldest first."""
        with self._read() as connection:
            rows = connection.execute(
                select(callbacks).where(callbacks.c.message_id == message_id).order_by(callbacks.c.id)
            ).all()
        return [
            {
                "id": r.id,
                "vendor": r.vendor,
                "kind": r.kind,
                "received_at": r.received_at.isoformat(),
                "body": r.body,
            }
            for r in rows
        ]

    def count(self, table: str) -> int:
        """Row count of one store table (``messages``, ``callbacks``, ``inbound``, ...); for checks and CLI."""
        tables = {
            "messages": messages,
            "attempts": channel_attempts,
            "callbacks": callbacks,
            "inbound": inbound_messages,
            "opt_outs": opt_outs,
            "watcher_cursors": watcher_cursors,
            "consent": consent_events,
        }
        with self._read() as connection:
            return int(connection.execute(select(func.count()).select_from(tables[table])).scalar_one())

    # ------------------------------------------------------------------ inbound and opt-outs
    def record_inbound(self, *, vendor: str, raw_body: str, inbound: NewInbound) -> tuple[InboundRecord, bool]:
        """Store an inbound message and apply its keyword action to the opt-out list, atomically.

        A vendor retry of the same body is recognised and not stored twice; returns (record, created).
        """
        now = utcnow()
        digest = _sha256(raw_body)
        sender = normalize_recipient(inbound.sender)
        with self._write() as connection:
            # the same body retried to two receivers at once: the second waits, then finds the first
            self._lock(connection, f"inbound:{vendor}:{digest}")
            existing = connection.execute(
                select(inbound_messages).where(
                    and_(inbound_messages.c.vendor == vendor, inbound_messages.c.body_sha256 == digest)
                )
            ).first()
            if existing is not None:
                return _inbound_from_row(existing._mapping), False
            callback_id = connection.execute(
                insert(callbacks)
                .values(
                    vendor=vendor,
                    kind="inbound",
                    message_id=inbound.reference_id,
                    body=raw_body,
                    body_sha256=digest,
                    received_at=now,
                )
                .returning(callbacks.c.id)
            ).scalar_one()
            new_id = connection.execute(
                insert(inbound_messages)
                .values(
                    vendor=vendor,
                    channel=inbound.channel,
                    sender=sender,
                    recipient=inbound.recipient,
                    text=inbound.text,
                    media=list(inbound.media),
                    action=inbound.action,
                    keyword=inbound.keyword,
                    postback=inbound.postback,
                    reference_id=inbound.reference_id,
                    received_at=inbound.received_at or now,
                    created_at=now,
                    callback_id=callback_id,
                    body_sha256=digest,
                )
                .returning(inbound_messages.c.id)
            ).scalar_one()
            if inbound.action in ("stop", "start"):
                self._lock_opt_out(connection, vendor, sender)
                # a consent record for each change of the list (a repeated STOP changes nothing)
                if inbound.action == "stop":
                    changed = self._add_opt_out(connection, vendor, sender, "keyword", inbound.keyword, now)
                else:
                    changed = self._delete_opt_out(connection, vendor, sender)
                if changed:
                    self._record_consent(
                        connection,
                        vendor=vendor,
                        recipient=sender,
                        action="opt_out" if inbound.action == "stop" else "opt_in",
                        method="keyword",
                        keyword=inbound.keyword,
                        inbound_id=new_id,
                        occurred_at=inbound.received_at,
                        now=now,
                    )
            row = connection.execute(select(inbound_messages).where(inbound_messages.c.id == new_id)).one()
        return _inbound_from_row(row._mapping), True

    def find_inbound(
        self,
        *,
        sender: str | None = None,
        vendor: str | None = None,
        after_id: int | None = None,
        after_time: datetime | None = None,
        action: str | None = None,
        postback: str | None = None,
        limit: int = 100,
    ) -> list[InboundRecord]:
        """Inbound messages matching the filters, oldest first."""
        query = select(inbound_messages).order_by(inbound_messages.c.id).limit(limit)
        if sender:
            query = query.where(inbound_messages.c.sender == normalize_recipient(sender))
        if vendor:
            query = query.where(inbound_messages.c.vendor == vendor)
        if after_id is not None:
            query = query.where(inbound_messages.c.id > after_id)
        if after_time is not None:
            query = query.where(inbound_messages.c.created_at >= after_time)
        if action:
            query = query.where(inbound_messages.c.action == action)
        if postback:
            query = query.where(inbound_messages.c.postback == postback)
        with self._read() as connection:
            return [_inbound_from_row(r._mapping) for r in connection.execute(query).all()]

    def _add_opt_out(
        self,
        connection: Connection,
        vendor: str,
        recipient: str,
        source: str,
        keyword: str | None,
        now: datetime,
    ) -> bool:
        exists = connection.execute(
            select(opt_outs.c.id).where(and_(opt_outs.c.vendor == vendor, opt_outs.c.recipient == recipient))
        ).first()
        if exists:
            return False
        connection.execute(
            insert(opt_outs).values(vendor=vendor, recipient=recipient, source=source, keyword=keyword, created_at=now)
        )
        return True

    def _delete_opt_out(self, connection: Connection, vendor: str, recipient: str) -> bool:
        result = connection.execute(
            delete(opt_outs).where(and_(opt_outs.c.vendor == vendor, opt_outs.c.recipient == recipient))
        )
        return bool(result.rowcount)

    def _record_consent(
        self,
        connection: Connection,
        *,
        vendor: str,
        recipient: str,
        action: str,
        method: str,
        now: datetime,
        keyword: str | None = None,
        consent_text: str | None = None,
        campaign: str | None = None,
        detail: str | None = None,
        inbound_id: int | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        connection.execute(
            insert(consent_events).values(
                vendor=vendor,
                recipient=recipient,
                action=action,
                method=method,
                keyword=keyword,
                consent_text=consent_text,
                campaign=campaign,
                detail=detail,
                inbound_id=inbound_id,
                occurred_at=occurred_at or now,
                created_at=now,
            )
        )

    def add_opt_out(
        self,
        vendor: str,
        recipient: str,
        *,
        source: str = "cli",
        keyword: str | None = None,
        consent_text: str | None = None,
        campaign: str | None = None,
        detail: str | None = None,
    ) -> bool:
        """Add a recipient to the opt-out list of a vendor; False if it was already there.

        ``source`` says how (``cli``, ``api``, ``ui``, ``vendor_error``, ...); a consent record keeps it
        with ``consent_text`` / ``campaign`` / ``detail`` (e.g. the vendor's error).
        """
        recipient = normalize_recipient(recipient)
        now = utcnow()
        with self._write() as connection:
            self._lock_opt_out(connection, vendor, recipient)
            added = self._add_opt_out(connection, vendor, recipient, source, keyword, now)
            if added:
                self._record_consent(
                    connection,
                    vendor=vendor,
                    recipient=recipient,
                    action="opt_out",
                    method=source,
                    keyword=keyword,
                    consent_text=consent_text,
                    campaign=campaign,
                    detail=detail,
                    now=now,
                )
            return added

    def remove_opt_out(
        self,
        vendor: str,
        recipient: str,
        *,
        source: str = "cli",
        consent_text: str | None = None,
        campaign: str | None = None,
    ) -> bool:
        """Remove a recipient from the opt-out list (recorded as an opt-in by ``source``); False if absent."""
        recipient = normalize_recipient(recipient)
        now = utcnow()
        with self._write() as connection:
            self._lock_opt_out(connection, vendor, recipient)
            removed = self._delete_opt_out(connection, vendor, recipient)
            if removed:
                self._record_consent(
                    connection,
                    vendor=vendor,
                    recipient=recipient,
                    action="opt_in",
                    method=source,
                    consent_text=consent_text,
                    campaign=campaign,
                    now=now,
                )
            return removed

    def record_opt_in(
        self,
        vendor: str,
        recipient: str,
        *,
        method: str = "api",
        consent_text: str | None = None,
        campaign: str | None = None,
        detail: str | None = None,
    ) -> bool:
        """Record consent given (e.g. a web form): always a consent record, and off the opt-out list.

        Returns True when the recipient had been opted out.
        """
        recipient = normalize_recipient(recipient)
        now = utcnow()
        with self._write() as connection:
            self._lock_opt_out(connection, vendor, recipient)
            removed = self._delete_opt_out(connection, vendor, recipient)
            self._record_consent(
                connection,
                vendor=vendor,
                recipient=recipient,
                action="opt_in",
                method=method,
                consent_text=consent_text,
                campaign=campaign,
                detail=detail,
                now=now,
            )
            return removed

    def import_opt_outs(self, entries: Iterable[OptOutEntry], *, batch_size: int = 500) -> tuple[int, int]:
        """Add many opt-outs (``airflow-messaging optouts import``); returns (added, already listed).

        Each entry keeps its original ``source`` and ``created_at`` when given; its consent record says
        ``import``. Batches commit separately, in a fixed order of keys (no lock cycles with receivers).
        """
        added = existing = 0
        pending = [(e.vendor, normalize_recipient(e.recipient), e) for e in entries]
        for start in range(0, len(pending), batch_size):
            chunk = sorted(pending[start : start + batch_size], key=lambda item: (item[0], item[1]))
            now = utcnow()
            with self._write() as connection:
                for vendor, recipient, entry in chunk:
                    self._lock_opt_out(connection, vendor, recipient)
                    source = entry.source or "import"
                    if not self._add_opt_out(
                        connection, vendor, recipient, source, entry.keyword, entry.created_at or now
                    ):
                        existing += 1
                        continue
                    added += 1
                    self._record_consent(
                        connection,
                        vendor=vendor,
                        recipient=recipient,
                        action="opt_out",
                        method="import",
                        keyword=entry.keyword,
                        consent_text=entry.consent_text,
                        campaign=entry.campaign,
                        detail=None if entry.source is None else f"imported; first recorded by {entry.source}",
                        occurred_at=entry.created_at,
                        now=now,
                    )
        return added, existing

    def consent_history(
        self, vendor: str | None = None, recipient: str | None = None, *, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Consent records (opt-outs and opt-ins), oldest first."""
        query = select(consent_events).order_by(consent_events.c.id).limit(limit)
        if vendor:
            query = query.where(consent_events.c.vendor == vendor)
        if recipient:
            query = query.where(consent_events.c.recipient == normalize_recipient(recipient))
        with self._read() as connection:
            return [
                {
                    "id": r.id,
                    "vendor": r.vendor,
                    "recipient": r.recipient,
                    "action": r.action,
                    "method": r.method,
                    "keyword": r.keyword,
                    "consent_text": r.consent_text,
                    "campaign": r.campaign,
                    "detail": r.detail,
                    "inbound_id": r.inbound_id,
                    "occurred_at": r.occurred_at.isoformat(),
                    "created_at": r.created_at.isoformat(),
                }
                for r in connection.execute(query).all()
            ]

    def is_opted_out(self, vendor: str, recipient: str) -> bool:
        with self._read() as connection:
            return (
                connection.execute(
                    select(opt_outs.c.id).where(
                        and_(
                            opt_outs.c.vendor == vendor,
                            opt_outs.c.recipient == normalize_recipient(recipient),
                        )
                    )
                ).first()
                is not None
            )

    def opted_out_among(self, vendor: str, recipients: Iterable[str]) -> set[str]:
        """Which of these recipients opted out of ``vendor`` (as given), in ONE query (a bulk chunk's check)."""
        by_number: dict[str, list[str]] = {}
        for recipient in recipients:
            by_number.setdefault(normalize_recipient(recipient), []).append(recipient)
        if not by_number:
            return set()
        query = select(opt_outs.c.recipient).where(
            (opt_outs.c.vendor == vendor) & opt_outs.c.recipient.in_(list(by_number))
        )
        with self._read() as connection:
            found = {row.recipient for row in connection.execute(query)}
        return {given for number in found for given in by_number.get(number, [])}

    def list_opt_outs(self, vendor: str | None = None) -> list[dict[str, Any]]:
        query = select(opt_outs).order_by(opt_outs.c.id)
        if vendor:
            query = query.where(opt_outs.c.vendor == vendor)
        with self._read() as connection:
            return [
                {
                    "vendor": r.vendor,
                    "recipient": r.recipient,
                    "source": r.source,
                    "keyword": r.keyword,
                    "created_at": r.created_at.isoformat(),
                }
                for r in connection.execute(query).all()
            ]


def _attempt_from_row(row: Any) -> ChannelAttempt:
    return ChannelAttempt(
        channel=row["channel"],
        state=DeliveryState(row["state"]),
        code=row["code"],
        description=row["description"],
        channel_reference_id=row["channel_reference_id"],
        updated_on=row["updated_on"],
    )


def _inbound_from_row(row: Any) -> InboundRecord:
    return InboundRecord(
        id=row["id"],
        vendor=row["vendor"],
        channel=row["channel"],
        sender=row["sender"],
        recipient=row["recipient"],
        text=row["text"],
        media=list(row["media"] or []),
        action=row["action"],
        keyword=row["keyword"],
        postback=row["postback"],
        reference_id=row["reference_id"],
        received_at=row["received_at"],
        created_at=row["created_at"],
    )


def _count(sends: Sequence[tuple[datetime, str, str | None]], scopes: Sequence[CapScope]) -> dict[CapScope, int]:
    return {
        scope: sum(1 for at, vendor, kind in sends if scope.counts(created_at=at, vendor=vendor, message_type=kind))
        for scope in scopes
    }


def logical_status(children: Sequence[MessageStatus]) -> MessageStatus | None:
    """The status of a failover send from its vendor messages (in the order tried).

    Only sends a vendor accepted count. Delivered as soon as ANY of them is delivered (that message's
    status is returned); failed when every accepted one is complete without delivery; else pending.
    None while no vendor has accepted it.
    """
    accepted = [c for c in children if c.message_id]
    if not accepted:
        return None
    delivered = [c for c in accepted if c.delivered]
    if delivered:
        return delivered[0]
    pending = [c for c in accepted if not c.complete]
    return pending[0] if pending else accepted[-1]


def _by_requested_id(
    ids: Sequence[str], rows: Sequence[Any], to_status: Callable[[Any], MessageStatus]
) -> dict[str, MessageStatus]:
    """Rows of a ``message_id IN ids OR logical_key IN ids`` query, keyed by the id that was asked for."""
    wanted = set(ids)
    result: dict[str, MessageStatus] = {}
    groups: dict[str, list[tuple[int, MessageStatus]]] = {}
    for row in rows:
        mapping = row._mapping
        status = to_status(mapping)
        if mapping["message_id"] in wanted:
            result[mapping["message_id"]] = status
        logical = mapping.get("logical_key")
        if logical in wanted:
            groups.setdefault(logical, []).append((mapping.get("attempt") or 0, status))
    for logical, members in groups.items():
        combined = logical_status([status for _, status in sorted(members, key=lambda m: m[0])])
        if combined is not None:
            result[logical] = combined
    return result
