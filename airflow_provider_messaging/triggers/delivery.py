"""MessageDeliveryTrigger: waits on the store, never sends.

All delivery triggers of one triggerer process that read the same store share one
:class:`DeliveryPoller`: each poll interval it runs ONE batched query for every message any trigger
waits on (in a worker thread, so the event loop never blocks), then wakes the triggers whose wait is
over. 10,000 waiting messages therefore cost one query per interval, not 10,000.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import BaseTrigger, TriggerEvent
from airflow_provider_messaging.models.status import MessageStatus
from airflow_provider_messaging.models.waiting import DeliveryCriteria, Verdict

if TYPE_CHECKING:  # the store (SQLAlchemy) loads on the triggerer, not when a DAG file is parsed
    from airflow_provider_messaging.store import CampaignCounts, MessageStore

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Waiter:
    message_ids: list[str]
    criteria: DeliveryCriteria
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    statuses: dict[str, MessageStatus] = field(default_factory=dict)
    verdict: Verdict | None = None
    campaign_ids: list[str] = field(default_factory=list)
    counts: list[CampaignCounts] = field(default_factory=list)


class DeliveryPoller:
    """One polling loop per (event loop, store URL, interval), shared by every waiting trigger.

    Each poll asks the database only for the messages whose wait is over (complete, or in a success
    state), so a poll over 10,000 pending messages returns a handful of rows.
    """

    # Keyed by the loop object itself (weakly): ids of closed loops get reused, and a poller bound to a
    # dead loop would never wake anyone.
    _instances: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, float], DeliveryPoller]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, store_url: str, interval: float):
        self.store_url = store_url
        self.interval = interval
        self.waiters: set[_Waiter] = set()
        self._by_message: dict[str, set[_Waiter]] = {}
        self._campaign_waiters: set[_Waiter] = set()
        self.queries = 0
        self._task: asyncio.Task[None] | None = None
        self._store: MessageStore | None = None

    @classmethod
    def for_loop(cls, store_url: str, interval: float) -> DeliveryPoller:
        pollers = cls._instances.setdefault(asyncio.get_running_loop(), {})
        poller = pollers.get((store_url, interval))
        if poller is None:
            poller = pollers[(store_url, interval)] = cls(store_url, interval)
        return poller

    def register(
        self, message_ids: Sequence[str], criteria: DeliveryCriteria, campaign_ids: Sequence[str] = ()
    ) -> _Waiter:
        waiter = _Waiter(list(message_ids), criteria, campaign_ids=list(campaign_ids))
        self.waiters.add(waiter)
        if waiter.campaign_ids:
            self._campaign_waiters.add(waiter)
        for message_id in waiter.message_ids:
            self._by_message.setdefault(message_id, set()).add(waiter)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return waiter

    def unregister(self, waiter: _Waiter) -> None:
        self.waiters.discard(waiter)
        self._campaign_waiters.discard(waiter)
        for message_id in waiter.message_ids:
            waiting = self._by_message.get(message_id)
            if waiting is not None:
                waiting.discard(waiter)
                if not waiting:
                    del self._by_message[message_id]

    async def store(self) -> MessageStore:
        if self._store is None:
            self._store = await asyncio.to_thread(config.get_store, self.store_url)
        return self._store

    async def poll_once(self) -> None:
        """One batched read of the settled messages among all waited-on ids (and one aggregate read for
        all waited-on campaigns); wakes the waiters now done."""
        store = await self.store()
        if self._campaign_waiters:
            await self._poll_campaigns(store)
        ids = list(self._by_message)
        if not ids:
            return
        states = {state for waiter in self.waiters for state in waiter.criteria.success_states}
        settled = await asyncio.to_thread(store.get_settled, ids, states)
        self.queries += 1
        touched = {waiter for message_id in settled for waiter in self._by_message.get(message_id, ())}
        for waiter in touched:
            waiter.statuses.update({m: settled[m] for m in waiter.message_ids if m in settled})
            verdict = waiter.criteria.evaluate(waiter.message_ids, waiter.statuses)
            if verdict.done:
                waiter.verdict = verdict
                waiter.wake.set()
                self.unregister(waiter)

    async def _poll_campaigns(self, store: MessageStore) -> None:
        campaign_ids = {c for waiter in self._campaign_waiters for c in waiter.campaign_ids}
        counts = await asyncio.to_thread(store.campaign_counts, campaign_ids)
        self.queries += 1
        for waiter in list(self._campaign_waiters):
            waiter.counts = [counts[c] for c in waiter.campaign_ids if c in counts]
            verdict = waiter.criteria.evaluate_campaign([g for c in waiter.counts for g in c.groups])
            if verdict.done:
                waiter.verdict = verdict
                waiter.wake.set()
                self.unregister(waiter)

    async def _run(self) -> None:
        while self.waiters:
            try:
                await self.poll_once()
            except Exception as exc:  # store briefly down: keep waiting, the next poll retries
                log.warning("delivery poll failed (%s); retrying in %ss", type(exc).__name__, self.interval)
            if self.waiters:
                await asyncio.sleep(self.interval)


class MessageDeliveryTrigger(BaseTrigger):
    """Fires once the messages are delivered, have failed on every channel, or ``timeout_at`` passes.

    :param message_ids: vendor message ids (``reference_id`` / ``messageGUID``).
    :param criteria: :class:`DeliveryCriteria` fields (success_states, fail_on_fallback, match, min_delivered_ratio).
    :param poll_interval: seconds between batched store reads.
    :param timeout_at: epoch seconds; the trigger enforces it itself (``dag.test()`` ignores defer timeouts).
    :param store_url: store to read (default: ``[messaging] store_url``, read on the triggerer).
    :param campaign_ids: wait on campaigns (their handles) instead: one aggregate read per poll.
    """

    def __init__(
        self,
        message_ids: list[str],
        criteria: dict[str, Any] | None = None,
        poll_interval: float = 2.0,
        timeout_at: float | None = None,
        store_url: str | None = None,
        campaign_ids: list[str] | None = None,
    ):
        super().__init__()
        self.message_ids = list(message_ids)
        self.campaign_ids = list(campaign_ids or [])
        self.criteria = dict(criteria or {})
        self.poll_interval = float(poll_interval)
        self.timeout_at = timeout_at
        # None: resolved on the triggerer from its own configuration, so no database URL (a secret) travels
        # in the trigger's serialized kwargs.
        self.store_url = store_url

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_messaging.triggers.delivery.MessageDeliveryTrigger",
            {
                "message_ids": self.message_ids,
                "criteria": self.criteria,
                "poll_interval": self.poll_interval,
                "timeout_at": self.timeout_at,
                "store_url": self.store_url,
                "campaign_ids": self.campaign_ids,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        criteria = DeliveryCriteria.from_dict(self.criteria)
        poller = DeliveryPoller.for_loop(self.store_url or config.get_store_url(), self.poll_interval)
        waiter = poller.register(self.message_ids, criteria, self.campaign_ids)
        try:
            remaining = None if self.timeout_at is None else max(0.0, self.timeout_at - time.time())
            try:
                await asyncio.wait_for(waiter.wake.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                try:  # report the last known state of every message, settled or not
                    store = await poller.store()
                    waiter.statuses = await asyncio.to_thread(store.get_statuses, self.message_ids)
                except Exception as exc:
                    log.warning("could not read the last known state: %s", type(exc).__name__)
                yield TriggerEvent(_event("timeout", self.message_ids, waiter, "timed out waiting for delivery"))
                return
            assert waiter.verdict is not None
            status = "success" if waiter.verdict.success else "failed"
            yield TriggerEvent(_event(status, self.message_ids, waiter, waiter.verdict.reason))
        finally:
            poller.unregister(waiter)


def _event(status: str, message_ids: list[str], waiter: _Waiter, reason: str) -> dict[str, Any]:
    event = {
        "status": status,
        "reason": reason,
        "message_ids": message_ids,
        "messages": [waiter.statuses[m].to_dict() for m in message_ids if m in waiter.statuses],
    }
    if waiter.campaign_ids:
        event["campaigns"] = [c.to_dict() for c in waiter.counts]
    return event
