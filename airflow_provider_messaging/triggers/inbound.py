"""InboundMessageTrigger: waits until a matching inbound message is stored. Reads only."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import BaseTrigger, TriggerEvent
from airflow_provider_messaging.store import InboundRecord, MessageStore


def find_reply(
    store: MessageStore,
    *,
    sender: str,
    vendor: str | None,
    after: datetime | None,
    action: str | None,
    postback: str | None,
    text_pattern: str | None,
) -> InboundRecord | None:
    """The first stored inbound message that matches, or None."""
    pattern = re.compile(text_pattern, re.IGNORECASE) if text_pattern else None
    last_id = None
    while True:
        batch = store.find_inbound(
            sender=sender, vendor=vendor, after_time=after, action=action, postback=postback, after_id=last_id
        )
        for record in batch:
            if pattern is None or (record.text and pattern.search(record.text)):
                return record
        if len(batch) < 100:
            return None
        last_id = batch[-1].id


class InboundMessageTrigger(BaseTrigger):
    """Fires with the first inbound message from ``sender`` matching the filters, or at ``timeout_at``."""

    def __init__(
        self,
        sender: str,
        vendor: str | None = None,
        after: str | None = None,
        action: str | None = None,
        postback: str | None = None,
        text_pattern: str | None = None,
        poll_interval: float = 2.0,
        timeout_at: float | None = None,
        store_url: str | None = None,
    ):
        super().__init__()
        self.sender = sender
        self.vendor = vendor
        self.after = after
        self.action = action
        self.postback = postback
        self.text_pattern = text_pattern
        self.poll_interval = float(poll_interval)
        self.timeout_at = timeout_at
        self.store_url = store_url  # None: resolved on the triggerer (no database URL in the kwargs)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_messaging.triggers.inbound.InboundMessageTrigger",
            {
                "sender": self.sender,
                "vendor": self.vendor,
                "after": self.after,
                "action": self.action,
                "postback": self.postback,
                "text_pattern": self.text_pattern,
                "poll_interval": self.poll_interval,
                "timeout_at": self.timeout_at,
                "store_url": self.store_url,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        store = await asyncio.to_thread(config.get_store, self.store_url)
        after = datetime.fromisoformat(self.after) if self.after else None
        while True:
            try:
                record = await asyncio.to_thread(
                    find_reply,
                    store,
                    sender=self.sender,
                    vendor=self.vendor,
                    after=after,
                    action=self.action,
                    postback=self.postback,
                    text_pattern=self.text_pattern,
                )
            except Exception:  # store briefly unavailable: try again next interval
                record = None
            if record is not None:
                yield TriggerEvent({"status": "success", "inbound": record.to_dict()})
                return
            if self.timeout_at is not None and time.time() >= self.timeout_at:
                yield TriggerEvent({"status": "timeout", "inbound": None})
                return
            await asyncio.sleep(self.poll_interval)
