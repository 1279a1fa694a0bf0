"""How database failures become the store's errors (the classes live in ``airflow_provider_messaging.exceptions``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from airflow_provider_messaging.exceptions import SchemaOutdatedError, StoreError, StoreUnavailableError

__all__ = ["SchemaOutdatedError", "StoreError", "StoreUnavailableError", "unavailable_as_store_error"]

_UNAVAILABLE_HINTS = re.compile(
    r"unable to open|readonly|read-only|disk I/O|database is locked|connection|could not connect|"
    r"server closed|terminating|shutting down|no such table|not currently accepting",
    re.IGNORECASE,
)


@contextmanager
def unavailable_as_store_error() -> Iterator[None]:
    """Turn "database is down / unwritable" into :class:`StoreUnavailableError` (constraint errors pass)."""
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, IntegrityError):
            raise
        if isinstance(exc, OperationalError) or exc.connection_invalidated or _UNAVAILABLE_HINTS.search(str(exc.orig)):
            raise StoreUnavailableError(f"message store unavailable: {type(exc.orig).__name__}") from exc
        raise
