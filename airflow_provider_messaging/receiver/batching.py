"""Group commit for delivery callbacks: many concurrent callbacks, one transaction, one fsync.

Request handlers hand their parsed callback to a :class:`CommitBatcher` and wait for its future; the
committer thread takes everything queued so far, stores it with one
:meth:`MessageStore.record_deliveries` call and resolves each future only after the commit. Under no
load a batch is a single callback and nothing waits; under load the next batch gathers while the
current one commits, and may wait up to ``linger`` (2 ms) to be as large as the previous one. If a batch fails for a reason other than the store being down, its callbacks
are retried one by one, so one bad callback cannot fail the others.

Handlers on an event loop use :meth:`CommitBatcher.submit_async`: the committer wakes each loop once
per batch and resolves all of that batch's asyncio futures in that one callback, instead of one
cross-thread wake-up and future chain per callback (``asyncio.wrap_future``).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import TypeAlias, Union

from airflow_provider_messaging.models.status import MessageStatus
from airflow_provider_messaging.store import DeliveryRecord, MessageStore, StoreUnavailableError

log = logging.getLogger(__name__)

_AsyncWaiter: TypeAlias = "asyncio.Future[MessageStatus | None]"
_Waiter: TypeAlias = Union["Future[MessageStatus | None]", _AsyncWaiter]
_Item: TypeAlias = tuple[DeliveryRecord, _Waiter]
# (future, result, error): what a callback's handler is answered
_Outcome: TypeAlias = tuple[_Waiter, MessageStatus | None, BaseException | None]
_AsyncOutcome: TypeAlias = tuple[_AsyncWaiter, MessageStatus | None, BaseException | None]


def _resolve(outcomes: list[_AsyncOutcome]) -> None:
    """On the event loop: settle the asyncio futures of one batch (a handler that gave up has cancelled its own)."""
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class CommitBatcher:
    """A committer thread per store; ``submit`` is thread-safe.

    :param max_batch: most callbacks per transaction.
    :param linger: under load, how long (seconds) a batch may wait to grow to the previous batch's size.
    """

    def __init__(self, store: MessageStore, max_batch: int = 256, linger: float = 0.002):
        self.store = store
        self.max_batch = max_batch
        self.linger = linger
        self.batches = 0
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="messaging-commit", daemon=True)
        self._thread.start()

    def submit(self, record: DeliveryRecord) -> Future[MessageStatus | None]:
        future: Future[MessageStatus | None] = Future()
        self._queue.put((record, future))
        return future

    def submit_async(self, record: DeliveryRecord) -> asyncio.Future[MessageStatus | None]:
        """Like :meth:`submit`, from a coroutine: the returned future is resolved on the running loop."""
        future: asyncio.Future[MessageStatus | None] = asyncio.get_running_loop().create_future()
        self._queue.put((record, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        last = 0  # size of the previous batch: more than 1 means callbacks are arriving concurrently
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            # under load, wait up to ``linger`` for the batch to grow back to the previous one's size: a
            # bigger batch costs less CPU per callback (fewer statements and commits); a lone callback
            # (last <= 1) never waits
            deadline = time.monotonic() + self.linger if self.linger and last > 1 else 0.0
            while len(batch) < self.max_batch:
                try:
                    if deadline and len(batch) < last:
                        item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                    else:
                        item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            last = len(batch)
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        outcomes: list[_Outcome] = []
        self._store_batch(batch, outcomes)
        by_loop: dict[asyncio.AbstractEventLoop, list[_AsyncOutcome]] = {}
        for future, result, error in outcomes:
            if isinstance(future, asyncio.Future):
                by_loop.setdefault(future.get_loop(), []).append((future, result, error))
                continue
            try:
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)
            except InvalidStateError:  # its waiter cancelled it (gave up): the commit stands, the answer is dropped
                pass
        for loop, settled in by_loop.items():
            _call_soon(loop, _resolve, settled)

    def _store_batch(self, batch: list[_Item], outcomes: list[_Outcome]) -> None:
        """Commit ``batch`` and append every callback's outcome (answered only after this returns)."""
        self.batches += 1
        try:
            results = self.store.record_deliveries([record for record, _ in batch])
        except StoreUnavailableError as down:
            outcomes.extend((future, None, down) for _, future in batch)
            return
        except Exception:
            if len(batch) == 1:
                log.exception("storing a delivery callback failed")
                outcomes.append((batch[0][1], None, StoreUnavailableError("callback could not be stored")))
                return
            for item in batch:  # isolate the callback that broke the batch
                self._store_batch([item], outcomes)
            return
        outcomes.extend((future, result, None) for (_, future), result in zip(batch, results, strict=True))


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: object) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # the loop closed (shutdown): nobody waits for these answers any more
        log.debug("event loop closed before a batch could be answered")
