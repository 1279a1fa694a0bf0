"""The opt-out list (its current state) and the consent records (every change: when, how, why)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select

from airflow_provider_messaging.models.types import normalize_recipient
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.locking import opt_out_key
from airflow_provider_messaging.store.optout_files import OptOutEntry
from airflow_provider_messaging.store.rows import utcnow
from airflow_provider_messaging.store.schema import consent_events, opt_outs


def add_entry(
    connection: Connection,
    vendor: str,
    recipient: str,
    source: str,
    keyword: str | None,
    now: datetime,
) -> bool:
    """Put a recipient on the list; False if it was there (the caller holds the entry's lock)."""
    exists = connection.execute(
        select(opt_outs.c.id).where(and_(opt_outs.c.vendor == vendor, opt_outs.c.recipient == recipient))
    ).first()
    if exists:
        return False
    connection.execute(
        insert(opt_outs).values(vendor=vendor, recipient=recipient, source=source, keyword=keyword, created_at=now)
    )
    return True


def delete_entry(connection: Connection, vendor: str, recipient: str) -> bool:
    """Take a recipient off the list; False if it was not there (the caller holds the entry's lock)."""
    result = connection.execute(
        delete(opt_outs).where(and_(opt_outs.c.vendor == vendor, opt_outs.c.recipient == recipient))
    )
    return bool(result.rowcount)


def record_consent(
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
    """One consent record: an opt-out or opt-in, with how (``method``) and what it referred to."""
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


class OptOutsPart(StoreBase):
    """Opt-outs and consent given or withdrawn through the API, the UI, the CLI, a vendor's refusal or an import."""

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
            self._lock(connection, opt_out_key(vendor, recipient))
            added = add_entry(connection, vendor, recipient, source, keyword, now)
            if added:
                record_consent(
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
        return self._opt_in(vendor, recipient, method=source, consent_text=consent_text, campaign=campaign)

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
        return self._opt_in(
            vendor, recipient, method=method, consent_text=consent_text, campaign=campaign, detail=detail, always=True
        )

    def _opt_in(
        self,
        vendor: str,
        recipient: str,
        *,
        method: str,
        consent_text: str | None,
        campaign: str | None,
        detail: str | None = None,
        always: bool = False,
    ) -> bool:
        """Take a recipient off the list; record the opt-in when they were on it (or ``always``)."""
        recipient = normalize_recipient(recipient)
        now = utcnow()
        with self._write() as connection:
            self._lock(connection, opt_out_key(vendor, recipient))
            removed = delete_entry(connection, vendor, recipient)
            if removed or always:
                record_consent(
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
                    self._lock(connection, opt_out_key(vendor, recipient))
                    source = entry.source or "import"
                    if not add_entry(connection, vendor, recipient, source, entry.keyword, entry.created_at or now):
                        existing += 1
                        continue
                    added += 1
                    record_consent(
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
