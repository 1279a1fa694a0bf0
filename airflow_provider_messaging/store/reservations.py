"""Reservations of the send ledger: the decision whether a try may send, written before the HTTP call.

Exactly one caller wins a key: the check and the write run in one transaction under the key's lock,
and a sending policy's frequency caps are counted in the same transaction under the recipient's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from airflow_provider_messaging.models.status import DeliveryState
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.caps import cap_counts, count_sends, recent_sends
from airflow_provider_messaging.store.locking import cap_key, send_key
from airflow_provider_messaging.store.records import (
    DEFAULT_SEND_LEASE_SECONDS,
    CapGate,
    Reservation,
    ReservationReason,
    SendIntent,
    SendStatus,
    skip_error,
)
from airflow_provider_messaging.store.rows import rows_by_key, status_from_row, utcnow
from airflow_provider_messaging.store.schema import messages
from airflow_provider_messaging.store.sends import FAIL, failure_values
from airflow_provider_messaging.store.skips import skip_values, write_skip

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


def finish_reservation(reservation: Reservation) -> Reservation:
    """The reservation as returned to the caller: the deciding row as a status, the row itself dropped."""
    if reservation.existing_row is None:
        return reservation
    return Reservation(
        send=reservation.send,
        reason=reservation.reason,
        existing=status_from_row(reservation.existing_row),
        error=reservation.existing_row.get("error"),
        reserved_at=reservation.reserved_at,
    )


class ReservationsPart(StoreBase):
    """Reservations of the send ledger (single, failover step, or a bulk chunk)."""

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
            self._lock(connection, send_key(logical_key or idempotency_key))
            if after_failure is not None:
                failed_key, error, unknown = after_failure
                connection.execute(FAIL, [failure_values(failed_key, error, unknown, now)])
            if logical_key is None:
                query = select(messages).where(messages.c.idempotency_key == idempotency_key)
            else:
                query = select(messages).where(
                    (messages.c.logical_key == logical_key) | (messages.c.idempotency_key == idempotency_key)
                )
            rows = [dict(r._mapping) for r in connection.execute(query).all()]
            reservation = decide_reservation(rows, now, lease_seconds=lease_seconds, resend_unknown=resend_unknown)
            if not reservation.send:
                return finish_reservation(reservation)
            if gate is not None and gate.scopes:
                self._lock(connection, cap_key(recipient))
                counts = cap_counts(connection, {recipient: gate.scopes}, exclude_keys={idempotency_key})
                refusal = gate.admit(counts[recipient])
                if refusal is not None:
                    own = next((r for r in rows if r["idempotency_key"] == idempotency_key), None)
                    skipped = {
                        **values,
                        "send_status": SendStatus.SKIPPED,
                        "error": skip_error("frequency_cap", refusal),
                    }
                    write_skip(connection, own, skipped)
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
            self._lock(connection, *map(send_key, keys))
            existing = rows_by_key(connection, keys)
            gated = {r.recipient: r.gate.scopes for r in requests if r.gate is not None and r.gate.scopes}
            if gated:
                self._lock(connection, *map(cap_key, gated))
            recent = recent_sends(connection, gated, exclude_keys=set(keys)) if gated else {}
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
                    refusal = request.gate.admit(count_sends(sends, request.gate.scopes))
                    if refusal is not None:
                        reservations.append(Reservation(send=False, reason=ReservationReason.CAPPED, error=refusal))
                        write_skip(connection, row, skip_values(request, skip_error("frequency_cap", refusal), now))
                        continue
                    sends.append((now, request.vendor, request.message_type))  # counts for a later request
                reservations.append(finish_reservation(decision))
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
