"""InboundMessageEventTrigger: start DAG runs from customer replies (event-driven scheduling, Airflow 3).

Use it in an ``AssetWatcher``; a DAG scheduled on the asset then runs when a matching inbound (MO)
message is stored by the receiver::

    from airflow.sdk import DAG, Asset, AssetWatcher

    replies = Asset(
        "messaging_replies_yes",
        watchers=[
            AssetWatcher(
                name="replies_yes",
                trigger=InboundMessageEventTrigger(watcher="replies_yes", postback="yes_response"),
            )
        ],
    )
    with DAG("on_yes", schedule=[replies], ...):
        ...  # the inbound message is in triggering_asset_events[replies][i].extra["payload"]["inbound"]

**At most one asset event per inbound message per watcher.** Airflow 3.3 does not de-duplicate asset
events (``Trigger.submit_event`` -> ``AssetManager.register_asset_change`` inserts one AssetEvent per
trigger event, whatever its payload), and a triggerer restart re-runs ``run()`` from the start. So the
trigger keeps its position in the message store: before yielding, it claims the next matching message
by moving the watcher's cursor past it, in one transaction under a per-watcher lock
(:meth:`MessageStore.claim_inbound`). A restarted trigger, or the same trigger briefly running on two
triggerers, continues after the claimed message. The price is at-most-once: a triggerer killed between
the claim and Airflow persisting the event drops that one event (its message stays in the store, and
``airflow-messaging`` shows it). Airflow's queue also merges events that arrive before the scheduler's
next loop into ONE run (``AssetDagRunQueue`` holds one row per asset and DAG), so a DAG should iterate
over every event in ``triggering_asset_events``.

Reads only; never sends.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import BaseEventTrigger, TriggerEvent
from airflow_provider_messaging.models.types import normalize_recipient

if TYPE_CHECKING:  # the store (SQLAlchemy) loads on the triggerer, not when a DAG file is parsed
    from airflow_provider_messaging.store import InboundRecord

log = logging.getLogger(__name__)


class InboundMessageEventTrigger(BaseEventTrigger):
    """Fires once per new inbound message that matches every given filter.

    :param watcher: name of the cursor kept in the message store; one per watcher, stable across
        deploys (renaming it starts a new cursor). Use the ``AssetWatcher`` name.
    :param vendor: ``telesign`` or ``aerialink``.
    :param channel: ``rcs``, ``sms``, ``whatsapp``, ...
    :param sender: phone number of the customer (any format).
    :param action: keyword action ``stop``, ``help``, ``start`` or ``generic``.
    :param postback: postback data of a tapped suggestion/choice.
    :param text_pattern: regular expression searched in the text (case-insensitive).
    :param start: where a new watcher begins: ``latest`` (only messages stored after its first poll,
        the default) or ``earliest`` (every stored message).
    :param poll_interval: seconds between store reads.
    :param store_url: store to read; default ``[messaging] store_url`` read in the triggerer (so no
        database URL is written into the serialized DAG).
    """

    def __init__(
        self,
        watcher: str,
        vendor: str | None = None,
        channel: str | None = None,
        sender: str | None = None,
        action: str | None = None,
        postback: str | None = None,
        text_pattern: str | None = None,
        start: str = "latest",
        poll_interval: float = 2.0,
        store_url: str | None = None,
    ):
        super().__init__()
        if not watcher:
            raise ValueError("watcher (a stable name for the store cursor) is required")
        if start not in ("latest", "earliest"):
            raise ValueError("start must be 'latest' or 'earliest'")
        if text_pattern:
            re.compile(text_pattern)  # fail at DAG parse time, not in the triggerer
        self.watcher = watcher
        self.vendor = vendor
        self.channel = channel
        self.sender = sender
        self.action = action
        self.postback = postback
        self.text_pattern = text_pattern
        self.start = start
        self.poll_interval = float(poll_interval)
        self.store_url = store_url

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_messaging.triggers.inbound_events.InboundMessageEventTrigger",
            {
                "watcher": self.watcher,
                "vendor": self.vendor,
                "channel": self.channel,
                "sender": self.sender,
                "action": self.action,
                "postback": self.postback,
                "text_pattern": self.text_pattern,
                "start": self.start,
                "poll_interval": self.poll_interval,
                "store_url": self.store_url,
            },
        )

    def matches(self, record: InboundRecord) -> bool:
        """Whether an inbound message passes every filter of this trigger."""
        if self.vendor and record.vendor != self.vendor:
            return False
        if self.channel and record.channel.lower() != self.channel.lower():
            return False
        if self.sender and record.sender != normalize_recipient(self.sender):
            return False
        if self.action and record.action != self.action:
            return False
        if self.postback and record.postback != self.postback:
            return False
        return not (
            self.text_pattern and not (record.text and re.search(self.text_pattern, record.text, re.IGNORECASE))
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        store = await asyncio.to_thread(config.get_store, self.store_url)
        while True:
            try:
                record, _cursor = await asyncio.to_thread(
                    store.claim_inbound, self.watcher, self.matches, start=self.start
                )
            except Exception as exc:  # store briefly down: the next poll retries
                log.warning("inbound watcher %s: store read failed (%s)", self.watcher, type(exc).__name__)
                record = None
            if record is not None:
                log.info("inbound watcher %s: inbound message %s matched", self.watcher, record.id)
                yield TriggerEvent(
                    {"status": "success", "watcher": self.watcher, "inbound_id": record.id, "inbound": record.to_dict()}
                )
                continue  # claim the next one at once: a burst is drained without waiting
            await asyncio.sleep(self.poll_interval)
