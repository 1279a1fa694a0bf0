"""Failover sends: one logical message tried through several vendors, read back as one status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from airflow_provider_messaging.models.status import MessageStatus


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


def by_requested_id(
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
