"""Fixtures: a real callback listener and a started sandbox that calls it back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_support import CallbackReceiver, Clients, make_config

from airflow_provider_messaging.sandbox import SandboxServer


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    r = CallbackReceiver()
    yield r
    r.close()


@pytest.fixture
def sandbox(receiver: CallbackReceiver) -> Iterator[SandboxServer]:
    server = SandboxServer(make_config(receiver)).start()
    yield server
    server.stop()


@pytest.fixture
def clients(sandbox: SandboxServer) -> Iterator[Clients]:
    c = Clients(sandbox)
    yield c
    c.session.close()
