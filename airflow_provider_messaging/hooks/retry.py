"""Retry policy of the hooks: urllib3 ``Retry`` tuned for sends that must never be duplicated."""

from __future__ import annotations

import logging
import random
import time
from itertools import takewhile
from typing import Any

from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 503})


class SendRetry(Retry):
    """urllib3 ``Retry`` for sends (see :meth:`for_sends`).

    It differs from the plain class in three ways: it backs off (exponentially, with jitter)
    from the *first* retry, where urllib3 retries at once, which is the wrong answer to a 429
    without ``Retry-After``; a ``Retry-After`` above ``max_retry_after`` is not slept on the
    worker, the answer comes back at once so the caller raises with ``retry_after``; and an
    unparsable ``Retry-After`` falls back to the backoff instead of raising.
    """

    def __init__(self, *args: Any, max_retry_after: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    @classmethod
    def for_sends(
        cls,
        retries: int,
        *,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        backoff_jitter: float = 0.5,
        max_retry_after: float = 60.0,
    ) -> SendRetry:
        """``retries`` connect retries and ``retries`` 429/503 retries; read errors never."""
        return cls(
            total=None,
            connect=retries,
            read=False,  # re-raise at once: the vendor may already have the message
            status=retries,
            other=0,
            redirect=False,
            allowed_methods=None,  # POST included: 429/503 mean "not accepted"
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            backoff_jitter=backoff_jitter,
            respect_retry_after_header=True,
            raise_on_status=False,  # return the last 429/503; the hook raises a typed error
            max_retry_after=max_retry_after,
        )

    def new(self, **kw: Any) -> SendRetry:
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_backoff_time(self) -> float:
        failures = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
        if failures == 0:
            return 0.0
        value = self.backoff_factor * (2 ** (failures - 1)) + random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> SendRetry:
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_retry_after:
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:g}s is too long to wait"))
        return super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[return-value]

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is None:
            wait = self.get_backoff_time()
        last = self.history[-1] if self.history else None
        what = f"answered HTTP {response.status}" if response is not None else "could not be reached"
        where = f"{last.method} {last.url}" if last else ""
        log.warning("Vendor %s (%s); retrying in %.2fs", what, where, wait)
        time.sleep(wait)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header (delta-seconds or HTTP date); None when absent or invalid."""
    if not value:
        return None
    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None
