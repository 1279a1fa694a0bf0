"""A thread-safe client-side rate limiter for bulk sends (evenly spaced, no bursts)."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Allows at most ``rate`` acquisitions per second across all threads."""

    def __init__(self, rate: float):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until the caller may send."""
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
