"""Delivery callbacks: the receiver's group commit, and the summary of a message from its channel attempts.

Every callback body is kept (``messaging_callbacks``); its channel events update the message's attempts
monotonically (an older or weaker event never overwrites a newer one) and then the message's summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Executable,
    Integer,
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    column,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import TableValuedAlias
from sqlalchemy.types import TypeEngine

from airflow_provider_messaging.models.status import (
    RANK,
    ChannelAttempt,
    DeliveryState,
    MessageStatus,
    Summary,
    order_attempts,
    summarize,
    supersedes,
)
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.locking import message_key
from airflow_provider_messaging.store.records import DeliveryRecord
from airflow_provider_messaging.store.rows import attempt_from_row, sha256, status_from_row, utcnow
from airflow_provider_messaging.store.schema import UTCDateTime, callbacks, channel_attempts, messages

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


def _json_value(value: object) -> str:
    """JSON for what ``json`` cannot encode: a datetime as ISO 8601 in UTC (as :class:`.UTCDateTime` binds it)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@dataclass(frozen=True)
class _RowsStatement:
    """One PostgreSQL statement that writes a batch of rows, passed as ONE parameter: a JSON array of objects.

    executemany sends (and the server parses and plans) one statement per row, prepared statements being
    off (see ``engine``). Here the statement text and its single parameter do not depend on the batch
    size: no bind-parameter limit, compiled once by SQLAlchemy, parsed once per batch by the server. The
    rows are read with ``json_to_recordset`` (a key a row lacks is NULL; keys not declared are ignored).
    Arrays (``unnest``) would do the same, but psycopg escapes text arrays in Python, element by element,
    which costs more than the server saves.
    """

    statement: Executable
    #: (array parameter, row field): an UPDATE also names its target rows by an indexed column, so that
    #: the planner reads them through the index; it cannot estimate json_to_recordset (100 rows, always)
    #: and would otherwise scan a table of a few thousand rows whole for a batch of a few.
    key_arrays: tuple[tuple[str, str], ...] = ()

    def parameters(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        parameters: dict[str, Any] = {"rows": json.dumps(rows, default=_json_value, ensure_ascii=False)}
        for name, field in self.key_arrays:
            parameters[name] = sorted({row[field] for row in rows})
        return parameters


def _recordset(**columns: TypeEngine[Any]) -> TableValuedAlias:
    """``json_to_recordset(CAST(:rows AS JSON)) AS anon(a T, b U, ...)``: the batch's rows as a table."""
    return (
        func.json_to_recordset(cast(bindparam("rows", type_=Text()), JSON))
        .table_valued(*(column(name, type_) for name, type_ in columns.items()))
        .render_derived(with_types=True)
    )


def _insert_rows(table: Table, **columns: TypeEngine[Any]) -> _RowsStatement:
    """``INSERT INTO table (a, b, ...) SELECT a, b, ... FROM json_to_recordset(...)``."""
    rows = _recordset(**columns)
    return _RowsStatement(insert(table).from_select(list(columns), select(*rows.c)))


_PG_INSERT_CALLBACKS = _insert_rows(
    callbacks,
    vendor=String(),
    kind=String(),
    message_id=String(),
    body=Text(),
    body_sha256=String(),
    received_at=UTCDateTime(),
)
_ATTEMPT_VALUES: dict[str, TypeEngine[Any]] = {
    "state": String(),
    "code": String(),
    "description": Text(),
    "channel_reference_id": String(),
    "updated_on": UTCDateTime(),
    "updated_at": UTCDateTime(),
}
_PG_INSERT_ATTEMPTS = _insert_rows(
    channel_attempts,
    vendor=String(),
    message_id=String(),
    channel=String(),
    created_at=UTCDateTime(),
    **_ATTEMPT_VALUES,
)
_ATTEMPT_CHANGES = _recordset(b_vendor=String(), b_message_id=String(), b_channel=String(), **_ATTEMPT_VALUES)
_PG_UPDATE_ATTEMPTS = _RowsStatement(
    update(channel_attempts)
    .where(
        and_(
            channel_attempts.c.vendor == _ATTEMPT_CHANGES.c.b_vendor,
            channel_attempts.c.message_id == _ATTEMPT_CHANGES.c.b_message_id,
            channel_attempts.c.channel == _ATTEMPT_CHANGES.c.b_channel,
            channel_attempts.c.vendor == any_(bindparam("vendors", type_=ARRAY(String()))),
            channel_attempts.c.message_id == any_(bindparam("message_ids", type_=ARRAY(String()))),
        )
    )
    .values({name: _ATTEMPT_CHANGES.c[name] for name in _ATTEMPT_VALUES}),
    key_arrays=(("vendors", "b_vendor"), ("message_ids", "b_message_id")),
)
_MESSAGE_CHANGES = _recordset(
    b_id=Integer(),
    state=String(),
    complete=Boolean(),
    delivered_channel=String(),
    attempts=JSON(),
    completed_at=UTCDateTime(),
    updated_at=UTCDateTime(),
)
_PG_UPDATE_MESSAGES = _RowsStatement(
    update(messages)
    .where(
        and_(messages.c.id == _MESSAGE_CHANGES.c.b_id, messages.c.id == any_(bindparam("ids", type_=ARRAY(Integer()))))
    )
    .values(
        state=_MESSAGE_CHANGES.c.state,
        complete=_MESSAGE_CHANGES.c.complete,
        delivered_channel=_MESSAGE_CHANGES.c.delivered_channel,
        attempts=_MESSAGE_CHANGES.c.attempts,
        completed_at=_MESSAGE_CHANGES.c.completed_at,
        updated_at=_MESSAGE_CHANGES.c.updated_at,
    ),
    key_arrays=(("ids", "b_id"),),
)


class DeliveriesPart(StoreBase):
    """Delivery callbacks (the group commit of the receiver)."""

    def record_deliveries(self, records: Sequence[DeliveryRecord]) -> list[MessageStatus | None]:
        """Store many delivery callbacks in ONE transaction (group commit), in order.

        The receiver batches concurrent callbacks here so that one commit (one fsync) serves many of
        them; each is answered only after this returns. A constant number of statements per batch:
        lock every message (sorted, so concurrent batches cannot deadlock), insert the raw bodies,
        read and write the attempts and summaries of all messages at once (each write one statement
        for the whole batch on PostgreSQL, see :class:`_RowsStatement`; an executemany on SQLite).
        The decisions are made here, in Python, under the locks: the statements only write them.
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
            self._lock(connection, *(message_key(v, m) for v, m in keys))
            callback_rows = [
                {
                    "vendor": r.vendor,
                    "kind": "status",
                    "message_id": r.message_id,
                    "body": r.raw_body,
                    "body_sha256": sha256(r.raw_body),
                    "received_at": now,
                }
                for r in records
            ]
            self._write_rows(connection, _INSERT_CALLBACK, _PG_INSERT_CALLBACKS, callback_rows)
            stored: dict[tuple[str, str], dict[str, ChannelAttempt]] = {key: {} for key in keys}
            for vendor, vendor_ids in ids_by_vendor.items():
                for row in connection.execute(_SELECT_ATTEMPTS_MANY, {"b_vendor": vendor, "ids": vendor_ids}):
                    stored[(row.vendor, row.message_id)][row.channel] = attempt_from_row(row._mapping)
            # The message rows first: each callback moves its message's state in order, as one by one would
            # (a batch must not end lower than its callbacks committed singly, e.g. QUEUED after SENT).
            message_rows: dict[tuple[str, str], dict[str, Any]] = {}
            for row in connection.execute(_SELECT_MESSAGES_MANY, {"ids": ids}):
                if (row.vendor, row.message_id) in stored:
                    message_rows[(row.vendor, row.message_id)] = dict(row._mapping)
            running = {found: DeliveryState(mapping["state"]) for found, mapping in message_rows.items()}
            inserts: dict[tuple[str, str, str], dict[str, Any]] = {}
            updates: dict[tuple[str, str, str], dict[str, Any]] = {}
            for record in records:
                found = (record.vendor, record.message_id)
                current = stored[found]
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
                if found in running:
                    running[found] = _next_state(message_rows[found], current, running[found])
            if inserts:
                self._write_rows(connection, _INSERT_ATTEMPT, _PG_INSERT_ATTEMPTS, list(inserts.values()))
            if updates:
                self._write_rows(connection, _UPDATE_ATTEMPT, _PG_UPDATE_ATTEMPTS, list(updates.values()))
            statuses: dict[tuple[str, str], MessageStatus] = {}
            message_updates: list[dict[str, Any]] = []
            for found, mapping in message_rows.items():
                changes = summary_changes(mapping, stored[found], now, previous=running[found])
                if changes:
                    message_updates.append({"b_id": mapping["id"], **changes})
                    mapping.update(changes)
                statuses[found] = status_from_row(mapping)
            if message_updates:
                self._write_rows(connection, _UPDATE_MESSAGE, _PG_UPDATE_MESSAGES, message_updates)
        return [statuses.get((r.vendor, r.message_id)) for r in records]

    def _write_rows(
        self, connection: Connection, per_row: Executable, many_rows: _RowsStatement, rows: list[dict[str, Any]]
    ) -> None:
        """Write ``rows``: SQLite runs ``per_row`` for each (executemany); PostgreSQL ``many_rows`` once.

        SQLite keeps executemany: its driver prepares the statement once for all rows, in process. A
        single row on PostgreSQL takes the plain statement too: the server plans it for less.
        """
        if self.sqlite or len(rows) == 1:
            connection.execute(per_row, rows)
        else:
            connection.execute(many_rows.statement, many_rows.parameters(rows))


def _next_state(mapping: dict[str, Any], attempts: dict[str, ChannelAttempt], previous: DeliveryState) -> DeliveryState:
    """The message's state once ``attempts`` are known, coming from ``previous`` (see :func:`summary_changes`)."""
    summary = summarize(list(mapping["channels"] or []), attempts)
    return previous if not summary.complete and RANK[summary.state] < RANK[previous] else summary.state


def summary_changes(
    mapping: dict[str, Any],
    attempts: dict[str, ChannelAttempt],
    now: datetime,
    *,
    previous: DeliveryState | None = None,
) -> dict[str, Any]:
    """Column changes of a message row whose attempts are ``attempts`` (empty when nothing changes).

    ``previous``: the highest state the message reached so far (default: the row's), which an incomplete
    summary never goes below."""
    cascade = list(mapping["channels"] or [])
    summary = summarize(cascade, attempts)
    previous = previous if previous is not None else DeliveryState(mapping["state"])
    if not summary.complete and RANK[summary.state] < RANK[previous]:
        # a first channel failing while the fallback runs must not move the message backwards
        summary = Summary(previous, False, None)
    changes: dict[str, Any] = {
        "state": summary.state.value,
        "complete": summary.complete,
        "delivered_channel": summary.delivered_channel,
        "attempts": [a.to_dict() for a in order_attempts(cascade, attempts.values())],
        # always a key, even unchanged: the rows of one executemany must have the same keys (SQLAlchemy
        # takes the statement's columns from the first row and would drop a later row's completed_at)
        "completed_at": now if summary.complete and mapping["completed_at"] is None else mapping["completed_at"],
    }
    if all(mapping.get(k) == v for k, v in changes.items()):
        return {}
    changes["updated_at"] = now
    return changes


def _load_attempts(connection: Connection, vendor: str, message_id: str) -> dict[str, ChannelAttempt]:
    rows = connection.execute(_SELECT_ATTEMPTS, {"b_vendor": vendor, "b_message_id": message_id}).all()
    return {row.channel: attempt_from_row(row._mapping) for row in rows}


def refresh_summary(connection: Connection, vendor: str, message_id: str, now: datetime) -> MessageStatus | None:
    """Recompute a message's summary from its attempts (the caller holds the message's lock)."""
    row = connection.execute(_SELECT_MESSAGE, {"b_vendor": vendor, "b_message_id": message_id}).first()
    if row is None:
        return None
    mapping = dict(row._mapping)
    changes = summary_changes(mapping, _load_attempts(connection, vendor, message_id), now)
    if changes:
        connection.execute(_UPDATE_MESSAGE, {"b_id": mapping["id"], **changes})
        mapping.update(changes)
    return status_from_row(mapping)
