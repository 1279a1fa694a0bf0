"""Frequency caps of the sending policy: how many messages a recipient got in each cap's scope.

The reservation counts under a lock on the recipient (see :mod:`.reservations`); the reads here are
for previews and pre-checks, without locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from airflow_provider_messaging.policies.decision import CapScope
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.records import SendStatus
from airflow_provider_messaging.store.schema import messages


def count_sends(sends: Sequence[tuple[datetime, str, str | None]], scopes: Sequence[CapScope]) -> dict[CapScope, int]:
    return {
        scope: sum(1 for at, vendor, kind in sends if scope.counts(created_at=at, vendor=vendor, message_type=kind))
        for scope in scopes
    }


def recent_sends(
    connection: Connection, scopes: Mapping[str, Sequence[CapScope]], *, exclude_keys: set[str]
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


def cap_counts(
    connection: Connection, scopes: Mapping[str, Sequence[CapScope]], *, exclude_keys: set[str]
) -> dict[str, dict[CapScope, int]]:
    recent = recent_sends(connection, scopes, exclude_keys=exclude_keys)
    return {recipient: count_sends(recent[recipient], group) for recipient, group in scopes.items()}


class CapsPart(StoreBase):
    """Cap counts for previews and pre-checks."""

    def count_recent_sends(
        self, recipient: str, scopes: Sequence[CapScope], *, exclude_key: str | None = None
    ) -> dict[CapScope, int]:
        """Messages to ``recipient`` per cap scope (a read, without locks: for previews and pre-checks;
        the reservation counts again under the recipient's lock)."""
        if not scopes:
            return {}
        with self._read() as connection:
            counts = cap_counts(connection, {recipient: scopes}, exclude_keys={exclude_key} if exclude_key else set())
        return counts[recipient]

    def count_recent_sends_many(
        self, scopes: Mapping[str, Sequence[CapScope]], *, exclude_keys: Iterable[str] = ()
    ) -> dict[str, dict[CapScope, int]]:
        """:meth:`count_recent_sends` for many recipients in one query (bulk pre-checks)."""
        if not scopes:
            return {}
        with self._read() as connection:
            return cap_counts(connection, scopes, exclude_keys=set(exclude_keys))
