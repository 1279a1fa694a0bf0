"""Fixtures: a real recording callback listener and a started sandbox that calls it back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_messaging.sandbox import SandboxServer
from tests.sandbox.sandbox_support import Clients, make_config
from tests.support.http_server import LocalHttpServer


@pytest.fixture
def receiver() -> Iterator[LocalHttpServer]:
    """The callback listener: answers 200 (``enqueue`` other answers first), records every request."""
    with LocalHttpServer() as server:
        yield server


@pytest.fixture
def sandbox(receiver: LocalHttpServer) -> Iterator[SandboxServer]:
    server = SandboxServer(make_config(receiver)).start()
    yield server
    server.stop()


@pytest.fixture
def clients(sandbox: SandboxServer) -> Iterator[Clients]:
    c = Clients(sandbox)
    yield c
    c.session.close()
