"""Campaigns (bulk sends): what a campaign's messages have come to, as a few aggregate rows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.records import CampaignCounts, SendStatus
from airflow_provider_messaging.store.schema import messages


class CampaignsPart(StoreBase):
    """Aggregate reads of a campaign's messages (the delivery trigger, the sensor, the CLI)."""

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
