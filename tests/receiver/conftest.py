"""Receiver fixtures: the app served by a real uvicorn server in a thread, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.store import MessageStore
from tests.receiver.receiver_support import Receiver, make_auth
from tests.support.uvicorn_server import serve_app


@pytest.fixture
def receiver(store: MessageStore) -> Iterator[Receiver]:
    """The receiver app served by uvicorn over real HTTP, on SQLite and on PostgreSQL."""
    with serve_app(create_app(store, make_auth(), max_body_bytes=65536)) as url, requests.Session() as session:
        yield Receiver(url, store, session)


@pytest.fixture
def sqlite_receiver(sqlite_store: MessageStore) -> Iterator[Receiver]:
    with serve_app(create_app(sqlite_store, make_auth(), max_body_bytes=65536)) as url, requests.Session() as session:
        yield Receiver(url, sqlite_store, session)
