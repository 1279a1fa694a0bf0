"""Group commit for delivery callbacks: many concurrent callbacks, one transaction, one fsync.

Request handlers hand their parsed callback to a :class:`CommitBatcher` and wait for its future; the
committer thread takes everything queued so far, stores it with one
:meth:`MessageStore.record_deliveries` call and resolves each future only after the commit. Under no
load a batch is a single callback and nothing waits; under load the next batch gathers while the
current one commits. If a batch fails for a reason other than the store being down, its callbacks
are retried one by one, so one bad callback cannot fail the others.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from airflow_provider_messaging.models.status import MessageStatus
from airflow_provider_messaging.store import DeliveryRecord, MessageStore, StoreUnavailableError

log = logging.getLogger(__name__)

_Item = tuple[DeliveryRecord, "Future[MessageStatus | None]"]


class CommitBatcher:
    """A committer thread per store; ``submit`` is thread-safe."""

    def __init__(self, store: MessageStore, max_batch: int = 256):
        self.store = store
        self.max_batch = max_batch
        self.batches = 0
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="messaging-commit", daemon=True)
        self._thread.start()

    def submit(self, record: DeliveryRecord) -> Future[MessageStatus | None]:
        future: Future[MessageStatus | None] = Future()
        self._queue.put((record, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        self.batches += 1
        try:
            results = self.store.record_deliveries([record for record, _ in batch])
        except StoreUnavailableError as down:
            for _, future in batch:
                future.set_exception(down)
            return
        except Exception:
            if len(batch) == 1:
                log.exception("storing a delivery callback failed")
                batch[0][1].set_exception(StoreUnavailableError("callback could not be stored"))
                return
            for item in batch:  # isolate the callback that broke the batch
                self._commit([item])
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
