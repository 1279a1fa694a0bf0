"""Per-key write locks of the store.

On PostgreSQL a writer takes transaction-level advisory locks on the keys it is about to check and
write; they are released by the commit. On SQLite ``BEGIN IMMEDIATE`` already makes each write
transaction the only writer, so no lock is taken. Keys are namespaced by what they protect; within one
transaction they are taken in this order (and sorted within a step), so two writers never wait on
each other in a cycle: send keys, recipients (caps), messages, opt-out entries.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, text

_LOCK_ONE = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
# One round trip locks every key of a batch, in a fixed order (no lock cycles between batches).
_LOCK_MANY = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"
)


def advisory_lock(connection: Connection, keys: Collection[str]) -> None:
    """Hold PostgreSQL advisory locks on ``keys`` until the transaction ends (sorted: no deadlock)."""
    if len(keys) == 1:
        connection.execute(_LOCK_ONE, {"key": next(iter(keys))})
    elif keys:
        connection.execute(_LOCK_MANY, {"keys": sorted(set(keys))})


def send_key(idempotency_key: str) -> str:
    """A ledger key (or a failover send's logical key): its reservation, skip or release."""
    return f"send:{idempotency_key}"


def cap_key(recipient: str) -> str:
    """A recipient's frequency-cap count (taken after the send keys)."""
    return f"cap:{recipient}"


def message_key(vendor: str, message_id: str) -> str:
    """A vendor message: its attempts and summary (callbacks, completion of its send)."""
    return f"{vendor}:{message_id}"


def opt_out_key(vendor: str, recipient: str) -> str:
    """One opt-out entry's check-then-write (taken after any other lock)."""
    return f"opt-out:{vendor}:{recipient}"


def watcher_key(watcher: str) -> str:
    """An asset watcher's cursor."""
    return f"watcher:{watcher}"


def inbound_key(vendor: str, body_sha256: str) -> str:
    """One inbound body (a vendor retry of the same body to two receivers: the second waits)."""
    return f"inbound:{vendor}:{body_sha256}"
