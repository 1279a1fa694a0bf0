"""Waiting on a condition instead of sleeping: poll until it holds, or fail saying what did not happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy and return that; after ``timeout`` seconds raise
    ``TimeoutError`` naming ``what`` (and the last value seen)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what} (last value: {value!r})")
        time.sleep(interval)
