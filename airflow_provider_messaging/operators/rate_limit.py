"""A thread-safe client-side rate limiter for bulk sends (evenly spaced, no bursts)."""

from __future__ import annotations

import threading
import time

#: Share of the spacing kept in reserve so that jitter (a thread waking late, the network) cannot squeeze
#: ``rate + 1`` requests into one second at the vendor: ``rate`` consecutive gaps span 1.05 s, not 1 s.
DEFAULT_HEADROOM = 0.05


class RateLimiter:
    """Allows at most ``rate`` acquisitions per second across all threads.

    Acquisitions are spaced ``(1 + headroom) / rate`` apart. With a spacing of exactly ``1 / rate``, any
    ``rate + 1`` consecutive sends span exactly one second, so the smallest delay of the first one is
    enough for the vendor to count ``rate + 1`` in a second; the headroom absorbs that jitter.
    """

    def __init__(self, rate: float, *, headroom: float = DEFAULT_HEADROOM):
        if rate <= 0:
            raise ValueError("rate must be positive")
        if headroom < 0:
            raise ValueError("headroom must not be negative")
        self.interval = (1.0 + headroom) / rate
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
