"""The group committer on a real store: answers only after the commit, one batch per loop, gives-up tolerated."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.receiver.batching import CommitBatcher
from airflow_provider_messaging.store import DeliveryRecord, MessageStore
from tests.support.store_helpers import complete_send

T0 = datetime(2020, 5, 4, 22, 0, tzinfo=timezone.utc)


def _sent(store: MessageStore, mid: str) -> None:
    key = f"dag/task/run/{mid}"
    assert store.reserve_send(idempotency_key=key, vendor="telesign", recipient="15558675309", channels=["sms"]).send
    complete_send(store, key, mid)


def _delivered(mid: str) -> DeliveryRecord:
    event = ChannelEvent("sms", DeliveryState.DELIVERED, "200", "Delivered", None, T0)
    return DeliveryRecord("telesign", mid, (event,), json.dumps({"reference_id": mid}))


def test_concurrent_submits_are_answered_after_their_commit(store: MessageStore) -> None:
    mids = [f"M{i}" for i in range(40)]
    for mid in mids:
        _sent(store, mid)
    batcher = CommitBatcher(store)

    async def main() -> list[object]:
        return await asyncio.gather(*(batcher.submit_async(_delivered(mid)) for mid in mids))

    try:
        statuses = asyncio.run(main())
    finally:
        batcher.close()
    assert [s.message_id for s in statuses] == mids  # type: ignore[attr-defined]
    for mid in mids:  # committed before the answer: a fresh read sees it
        status = store.get_status(mid)
        assert status is not None and status.state is DeliveryState.DELIVERED and status.complete
    assert store.count("callbacks") == len(mids)
    assert batcher.batches < len(mids)  # grouped: fewer transactions than callbacks


def test_a_handler_that_gave_up_does_not_stop_the_committer(sqlite_store: MessageStore) -> None:
    _sent(sqlite_store, "GONE")
    _sent(sqlite_store, "NEXT")
    batcher = CommitBatcher(sqlite_store)

    async def main() -> object:
        abandoned = batcher.submit_async(_delivered("GONE"))
        abandoned.cancel()  # the client went away; the callback is still committed, its answer dropped
        waiting = asyncio.ensure_future(asyncio.wrap_future(batcher.submit(_delivered("NEXT"))))
        waiting.cancel()
        await asyncio.sleep(0)
        return await batcher.submit_async(_delivered("NEXT"))

    try:
        status = asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        batcher.close()
    assert status is not None
    gone = sqlite_store.get_status("GONE")
    assert gone is not None and gone.state is DeliveryState.DELIVERED
