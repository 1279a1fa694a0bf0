"""Cursors of the asset watchers: each inbound message is claimed by at most one reply event, ever."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, func, insert, select, update

from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.locking import watcher_key
from airflow_provider_messaging.store.records import InboundRecord
from airflow_provider_messaging.store.rows import inbound_from_row, utcnow
from airflow_provider_messaging.store.schema import inbound_messages, watcher_cursors


class WatchersPart(StoreBase):
    """The watcher cursors (``InboundMessageEventTrigger``); the only write a trigger makes."""

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
            self._lock(connection, watcher_key(watcher))
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
                record = inbound_from_row(row._mapping)
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
