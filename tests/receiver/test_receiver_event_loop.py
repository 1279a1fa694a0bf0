"""Nothing in a request path blocks the receiver's event loop (issue 15.1).

The Telesign API key comes from an Airflow connection, possibly through a slow secrets backend. The
lookup runs in a thread: while it is in progress, every other request is answered; afterwards the
credentials are refreshed in the background and the last good ones keep serving.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from airflow_provider_messaging.receiver.auth import CredentialCache, CredentialsPending, telesign_signature
from airflow_provider_messaging.store import MessageStore
from tests.support.receiver_process import API_KEY, ReceiverProcess
from tests.support.waiting import wait_for
from tests.vendor_examples import load

ROOT = Path(__file__).resolve().parents[2]


def test_a_slow_secrets_backend_does_not_stall_other_requests(tmp_path: Path) -> None:
    """A real Airflow secrets backend holds the Telesign lookup; /health keeps answering meanwhile."""
    entered, gate = tmp_path / "lookup-entered", tmp_path / "lookup-gate"
    env = {
        "AIRFLOW__SECRETS__BACKEND": "tests.support.slow_secrets.GatedSecretsBackend",
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps({"entered": str(entered), "gate": str(gate)}),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    store = MessageStore(url)
    store.upgrade()
    body = json.dumps(load("telesign_delivery_callback_rcs_sms")).encode()
    headers = {"Content-Type": "application/json", "X-TS-Authorization": telesign_signature(body, API_KEY)}
    try:
        with ReceiverProcess(url, tmp_path, env=env) as receiver, ThreadPoolExecutor(6) as pool:
            callback = pool.submit(
                requests.post, receiver.url + "/telesign/status", data=body, headers=headers, timeout=90
            )
            wait_for(
                entered.exists, 60, "the receiver to enter the secrets backend", interval=0.02
            )  # the receiver is inside the secrets backend, held at the gate
            health = [pool.submit(requests.get, receiver.url + "/health", timeout=20) for _ in range(5)]
            # before the fix these waited for the lookup (the gate opens only after them): ReadTimeout
            assert [h.result().status_code for h in health] == [200] * 5
            assert not gate.exists()  # the lookup was still held while they were answered
            gate.touch()
            answer = callback.result()
            if answer.status_code == 503:  # the first lookup outlasted its wait: the vendor retries
                assert answer.headers["Retry-After"]
                answer = requests.post(receiver.url + "/telesign/status", data=body, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
            assert entered.read_text().split() == ["telesign_reliability"]  # one lookup, cached afterwards
        assert len(store.callbacks_for("35C8B5D509BC10689196FED2AD551B8A")) == 1
    finally:
        gate.touch()
        store.dispose()


class _GatedLookup:
    """Credentials returned in order; a lookup waits while the gate is closed."""

    def __init__(self, *values: tuple[str, str] | Exception) -> None:
        self.values = list(values)
        self.gate = threading.Event()
        self.gate.set()
        self.started = 0

    def __call__(self) -> tuple[str | None, str | None]:
        self.started += 1
        assert self.gate.wait(30)
        value = self.values.pop(0)
        if isinstance(value, Exception):
            raise value
        return value


def test_stale_credentials_serve_while_a_refresh_is_slow() -> None:
    lookup = _GatedLookup(("cust", "key-1"), ("cust", "key-2"), LookupError("backend down"))
    cache = CredentialCache(lookup, ttl=0.0)  # every read finds the value stale

    async def scenario() -> None:
        assert await cache.get() == ("cust", "key-1")  # the first lookup is waited for (in a thread)
        lookup.gate.clear()
        # stale: answered at once with the last good value while one refresh runs (held at the gate)
        assert [await cache.get() for _ in range(3)] == [("cust", "key-1")] * 3
        wait_for(lambda: lookup.started == 2, 60, "the refresh lookup to start", interval=0.02)
        lookup.gate.set()
        wait_for(lambda: cache.lookups == 2, 60, "the refresh to finish", interval=0.02)
        assert await cache.get() == ("cust", "key-2")
        wait_for(
            lambda: cache.lookups == 3, 60, "the failed refresh to finish", interval=0.02
        )  # that read started a refresh, which failed
        assert await cache.get() == ("cust", "key-2")  # a failed refresh keeps the last good credentials

    asyncio.run(scenario())
    assert lookup.started == 4  # single flight: one lookup at a time, never one per request


def test_a_first_lookup_that_takes_too_long_is_a_retryable_refusal() -> None:
    lookup = _GatedLookup(("cust", "key"))
    lookup.gate.clear()
    cache = CredentialCache(lookup, wait=0.05)
    with pytest.raises(CredentialsPending):
        asyncio.run(cache.get())
    lookup.gate.set()
    wait_for(lambda: cache.lookups == 1, 60, "the first lookup to finish", interval=0.02)
    assert asyncio.run(cache.get()) == ("cust", "key")
