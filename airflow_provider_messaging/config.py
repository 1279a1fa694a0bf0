"""Settings of the ``[messaging]`` section of the Airflow configuration, read in one place.

Airflow is imported lazily so that the receiver and CLI can also run from plain environment variables
(``AIRFLOW__MESSAGING__STORE_URL`` and friends) where that is cheaper.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy and the store load on first use, not when a DAG file imports an operator
    from airflow_provider_messaging.store import MessageStore

SECTION = "messaging"
_DEFAULTS = {
    "store_url": "",
    "telesign_conn_id": "telesign_default",
    "callback_token": "",
    "callback_username": "",
    "callback_password": "",
    "callback_auth_disabled": "False",
    "callback_secret_vendors": "aerialink",
    "max_callback_bytes": "65536",
    "poll_interval": "2",
    "send_lease_seconds": "900",
    "sending_policy": "",
}


def get_option(key: str) -> str:
    """``[messaging] key``: environment variable first, then airflow.cfg, then the default."""
    env = os.environ.get(f"AIRFLOW__{SECTION.upper()}__{key.upper()}")
    if env is not None:
        return env
    try:
        from airflow_provider_messaging.compat import conf

        value = conf.get(SECTION, key, fallback=None)
    except Exception:  # Airflow not configured (standalone receiver): defaults apply
        value = None
    return _DEFAULTS.get(key, "") if value is None else str(value)


def get_bool(key: str) -> bool:
    return get_option(key).strip().lower() in ("1", "true", "yes", "on")


def poll_interval(value: float | None = None) -> float:
    """Seconds between store reads: ``value`` if given, else ``[messaging] poll_interval``."""
    return float(value if value is not None else get_option("poll_interval") or 2)


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")).expanduser()


def send_lease_seconds() -> float:
    """``[messaging] send_lease_seconds``: how long a reserved send counts as in flight (see ``sending``)."""
    raw = get_option("send_lease_seconds")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"[messaging] send_lease_seconds must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"[messaging] send_lease_seconds must be positive, got {raw!r}")
    return value


def get_store_url() -> str:
    """The store URL; empty means the embedded SQLite file ``$AIRFLOW_HOME/messaging.db``."""
    url = get_option("store_url").strip()
    return url or f"sqlite:///{airflow_home() / 'messaging.db'}"


_stores: dict[str, MessageStore] = {}
_lock = threading.Lock()


def get_store(url: str | None = None) -> MessageStore:
    """One store (engine pool) per URL per process. The embedded SQLite store migrates itself;
    a server database must be migrated with ``airflow-messaging db upgrade``."""
    from airflow_provider_messaging.store import MessageStore

    url = url or get_store_url()
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = MessageStore(url)
            if store.sqlite_file is not None:
                store.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            store.ensure_schema(auto_upgrade=store.sqlite)
            _stores[url] = store
        return store


def reset_stores() -> None:
    """Dispose every cached store (tests, forked processes)."""
    with _lock:
        for store in _stores.values():
            store.dispose()
        _stores.clear()
