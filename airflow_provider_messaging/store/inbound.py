"""Inbound (MO) messages: stored once per body, their STOP/START keywords applied to the opt-out list atomically."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, insert, select

from airflow_provider_messaging.models.types import normalize_recipient
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.locking import inbound_key, opt_out_key
from airflow_provider_messaging.store.optouts import add_entry, delete_entry, record_consent
from airflow_provider_messaging.store.records import InboundRecord, NewInbound
from airflow_provider_messaging.store.rows import inbound_from_row, sha256, utcnow
from airflow_provider_messaging.store.schema import callbacks, inbound_messages


class InboundPart(StoreBase):
    """Inbound messages: the receiver's write, the sensors' and the Messages view's reads."""

    def record_inbound(self, *, vendor: str, raw_body: str, inbound: NewInbound) -> tuple[InboundRecord, bool]:
        """Store an inbound message and apply its keyword action to the opt-out list, atomically.

        A vendor retry of the same body is recognised and not stored twice; returns (record, created).
        """
        now = utcnow()
        digest = sha256(raw_body)
        sender = normalize_recipient(inbound.sender)
        with self._write() as connection:
            # the same body retried to two receivers at once: the second waits, then finds the first
            self._lock(connection, inbound_key(vendor, digest))
            existing = connection.execute(
                select(inbound_messages).where(
                    and_(inbound_messages.c.vendor == vendor, inbound_messages.c.body_sha256 == digest)
                )
            ).first()
            if existing is not None:
                return inbound_from_row(existing._mapping), False
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
                self._lock(connection, opt_out_key(vendor, sender))
                # a consent record for each change of the list (a repeated STOP changes nothing)
                if inbound.action == "stop":
                    changed = add_entry(connection, vendor, sender, "keyword", inbound.keyword, now)
                else:
                    changed = delete_entry(connection, vendor, sender)
                if changed:
                    record_consent(
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
        return inbound_from_row(row._mapping), True

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
            return [inbound_from_row(r._mapping) for r in connection.execute(query).all()]

    def latest_inbound(
        self, *, vendor: str | None = None, sender: str | None = None, limit: int = 100
    ) -> list[InboundRecord]:
        """The newest inbound messages, newest first (the Messages view; sensors use :meth:`find_inbound`)."""
        query = select(inbound_messages).order_by(inbound_messages.c.id.desc()).limit(limit)
        if vendor:
            query = query.where(inbound_messages.c.vendor == vendor)
        if sender:
            query = query.where(inbound_messages.c.sender == normalize_recipient(sender))
        with self._read() as connection:
            return [inbound_from_row(r._mapping) for r in connection.execute(query).all()]

    def inbound_between(self, since: datetime | None, until: datetime | None) -> list[InboundRecord]:
        """Every inbound message received in ``[since, until)``, oldest first (analytics input)."""
        query = select(inbound_messages).order_by(inbound_messages.c.id)
        if since is not None:
            query = query.where(inbound_messages.c.created_at >= since)
        if until is not None:
            query = query.where(inbound_messages.c.created_at < until)
        with self._read() as connection:
            return [inbound_from_row(r._mapping) for r in connection.execute(query).all()]
