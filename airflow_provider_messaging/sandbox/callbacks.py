"""Callback dispatcher: POSTs callbacks when they are due and retries like the vendor.

A scheduler thread keeps a heap of due times and hands due callbacks to a few sender threads.
Callbacks of one message always go to the same sender thread, so their order is the planned order
(apart from retries, which - as with the real vendor - may let a later callback overtake).
"""

from __future__ import annotations

import heapq
import itertools
import json
import queue
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from .config import SandboxConfig
from .formats import iso_milli_z, utcnow


@dataclass(frozen=True)
class Delivery:
    """One callback to send (a retry is the same delivery with ``attempt`` + 1)."""

    vendor: str
    kind: str  # "delivery" or "inbound"
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    auth: tuple[str, str] | None = None
    message_id: str | None = None
    event: str | None = None  # vendor status code / status name, for humans and tests
    attempt: int = 1
    generation: int = 0


class CallbackDispatcher:
    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._records: list[dict[str, Any]] = []
        self._in_flight = 0
        self._generation = 0
        self._stopping = False
        self._held = False
        self._queues: list[queue.Queue[Delivery | None]] = [
            queue.Queue() for _ in range(max(1, config.callback_workers))
        ]
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        with self._cond:  # a stopped dispatcher can be started again
            self._stopping = False
        self._queues = [queue.Queue() for _ in self._queues]
        self._threads.append(threading.Thread(target=self._schedule_loop, name="sandbox-scheduler", daemon=True))
        for i, q in enumerate(self._queues):
            self._threads.append(
                threading.Thread(target=self._send_loop, args=(q,), name=f"sandbox-sender-{i}", daemon=True)
            )
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Drop pending callbacks and end every thread."""
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
        for q in self._queues:
            q.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def reset(self) -> None:
        """Forget pending callbacks and the record of past attempts."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._records.clear()
            self._cond.notify_all()

    def hold(self) -> None:
        """Keep due callbacks back (they are still scheduled) until :meth:`release`."""
        with self._cond:
            self._held = True

    def release(self) -> None:
        """Send held callbacks (in their planned order) and stop holding."""
        with self._cond:
            self._held = False
            self._cond.notify_all()

    @property
    def held(self) -> bool:
        with self._cond:
            return self._held

    # -- scheduling ------------------------------------------------------------------------------
    def schedule(self, delivery: Delivery, delay_s: float) -> None:
        with self._cond:
            if self._stopping:
                return
            delivery = replace(delivery, generation=self._generation)
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay_s), next(self._seq), delivery))
            self._cond.notify_all()

    def _schedule_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now and not self._held:
                        break
                    self._cond.wait(self._heap[0][0] - now if self._heap and not self._held else None)
                if self._stopping:
                    return
                due: list[Delivery] = []
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                self._in_flight += len(due)
            for delivery in due:
                lane = delivery.message_id or delivery.url
                self._queues[zlib.crc32(lane.encode()) % len(self._queues)].put(delivery)

    # -- sending ---------------------------------------------------------------------------------
    def _send_loop(self, q: queue.Queue[Delivery | None]) -> None:
        session = requests.Session()
        try:
            while (delivery := q.get()) is not None:
                try:
                    self._send(session, delivery)
                finally:
                    with self._cond:
                        self._in_flight -= 1
                        self._cond.notify_all()
        finally:
            session.close()

    def _send(self, session: requests.Session, delivery: Delivery) -> None:
        with self._cond:
            if self._stopping or delivery.generation != self._generation:
                return
        headers = {"Content-Type": "application/json", **delivery.headers}
        status: int | None = None
        error: str | None = None
        try:
            response = session.request(
                delivery.method,
                delivery.url,
                data=delivery.body,
                headers=headers,
                auth=delivery.auth,
                timeout=self._config.callback_timeout_s,
            )
            status = response.status_code
            response.close()
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        if delivery.auth is not None:
            headers["Authorization"] = "Basic <redacted>"
        record = {
            "vendor": delivery.vendor,
            "kind": delivery.kind,
            "message_id": delivery.message_id,
            "event": delivery.event,
            "method": delivery.method,
            "url": delivery.url,
            "attempt": delivery.attempt,
            "headers": headers,
            "body": json.loads(delivery.body),
            "raw_body": delivery.body.decode("utf-8"),
            "status_code": status,
            "error": error,
            "delivered": ok,
            "time": iso_milli_z(utcnow()),
        }
        with self._cond:
            if delivery.generation != self._generation:
                return
            record["id"] = len(self._records) + 1
            self._records.append(record)
            self._cond.notify_all()
        if not ok and delivery.attempt < self._config.callback_max_attempts:
            self.schedule(replace(delivery, attempt=delivery.attempt + 1), self._config.retry_wait(delivery.attempt))

    # -- inspection ------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(r) for r in self._records]

    def pending(self) -> int:
        """Callbacks scheduled or being sent."""
        with self._cond:
            return len(self._heap) + self._in_flight

    def wait_for(self, n: int, timeout: float, **match: Any) -> list[dict[str, Any]]:
        """Wait until at least ``n`` attempts whose fields equal ``match`` are recorded; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [dict(r) for r in self._records if all(r.get(k) == v for k, v in match.items())]
                remaining = deadline - time.monotonic()
                if len(found) >= n:
                    return found
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)} of {n} callbacks matching {match} after {timeout}s")
                self._cond.wait(remaining)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is scheduled or in flight (retries included)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True
