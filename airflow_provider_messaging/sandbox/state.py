"""In-memory state shared by the routes: request log, message timelines, rate-limit memory."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .formats import iso_milli_z, utcnow


@dataclass
class TimelineEntry:
    due: float  # time.monotonic() when the event happens
    status: dict[str, Any]


@dataclass
class SandboxState:
    """Thread-safe: routes run on the event loop, callbacks on worker threads, tests on the main thread."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _requests: list[dict[str, Any]] = field(default_factory=list)
    _timelines: dict[str, list[TimelineEntry]] = field(default_factory=dict)
    _rate_limited: set[tuple[str, str]] = field(default_factory=set)

    def log_request(
        self,
        vendor: str,
        method: str,
        path: str,
        status_code: int,
        recipient: str | None = None,
        message_id: str | None = None,
        code: int | str | None = None,
    ) -> None:
        record = {
            "vendor": vendor,
            "method": method,
            "path": path,
            "recipient": recipient,
            "status_code": status_code,
            "code": code,
            "message_id": message_id,
            "time": iso_milli_z(utcnow()),
        }
        with self._lock:
            self._requests.append(record)

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def first_attempt(self, vendor: str, recipient: str) -> bool:
        """True the first time a recipient is seen for a vendor (scenario 8 rejects that attempt)."""
        key = (vendor, recipient)
        with self._lock:
            if key in self._rate_limited:
                return False
            self._rate_limited.add(key)
            return True

    def set_timeline(self, message_id: str, initial: dict[str, Any], events: list[TimelineEntry]) -> None:
        with self._lock:
            self._timelines[message_id] = [TimelineEntry(time.monotonic(), initial), *events]

    def current_status(self, message_id: str) -> dict[str, Any] | None:
        """The latest status whose time has come, or ``None`` for an unknown id."""
        with self._lock:
            timeline = self._timelines.get(message_id)
            if timeline is None:
                return None
            now = time.monotonic()
            reached = [e for e in timeline if e.due <= now] or timeline[:1]
            return dict(max(reached, key=lambda e: e.due).status)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._timelines.clear()
            self._rate_limited.clear()
