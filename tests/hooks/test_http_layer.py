"""The hooks' real HTTP layer on sockets: keep-alive pooling, idle recycling, and one real retry or failure of each kind.

The error mapping and retry decisions are checked in-process (``test_error_mapping``); these tests
prove the real transport behaves as the scripted one pretends: same exceptions, same attempt counts.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_messaging.exceptions import SendOutcomeUnknownError, VendorUnavailableError
from airflow_provider_messaging.hooks.telesign import SEND_PATH, TelesignHook
from airflow_provider_messaging.hooks.transport import DEFAULT_POOL_RECYCLE, PooledTransport
from tests.hooks.conftest import API_KEY, CUSTOMER_ID, FAST, TELESIGN_ACCEPTED, ConnFactory
from tests.hooks.scripted import connect_refused, dropped, read_timeout
from tests.support.http_server import LocalHttpServer, Recorded, Reply
from tests.support.ports import free_port

SMS_ONLY = {
    "channels": [{"channel": "sms"}],
    "phone_number": "15558675309",
    "message": {"sms": {"template": "text", "parameters": {"text": "Your order shipped"}}},
    "message_type": "ARN",
}


class CountingTransport(PooledTransport):
    """The real pooled transport, counting the attempts it sends (in-process: exact when the hook returns)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.attempts = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.attempts += 1
        return super().send(request, *args, **kwargs)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def posts(server: LocalHttpServer) -> list[Recorded]:
    return server.requests_to(SEND_PATH, "POST")


def _chain(exc: BaseException | None) -> list[type]:
    """The exception's type and the types it wraps, as requests and urllib3 nest them (in args, or ``reason``)."""
    types: list[type] = []
    while exc is not None:
        types.append(type(exc))
        inner = [getattr(exc, "reason", None), *exc.args]
        exc = next((e for e in inner if isinstance(e, BaseException)), None)
    return types


def _scripted(failure: Any) -> BaseException:
    request = requests.Request("POST", "http://vendor.test/v1/omnichannel").prepare()
    with pytest.raises(requests.exceptions.RequestException) as err:
        failure(request)
    return err.value


# ---- pooling -------------------------------------------------------------------------------


def test_keep_alive_connection_is_reused(server: LocalHttpServer, telesign_conn: str) -> None:
    hook = TelesignHook(telesign_conn)
    for _ in range(3):
        hook.send_omnichannel(SMS_ONLY)
    assert {r.connection for r in posts(server)} == {1}


def test_pool_recycled_after_idle(server: LocalHttpServer, telesign_conn: str) -> None:
    clock = Clock()
    hook = TelesignHook(telesign_conn, transport=PooledTransport(pool_recycle=DEFAULT_POOL_RECYCLE, clock=clock))
    hook.send_omnichannel(SMS_ONLY)
    clock.now += DEFAULT_POOL_RECYCLE - 1
    hook.send_omnichannel(SMS_ONLY)
    clock.now += DEFAULT_POOL_RECYCLE + 1  # idle past the recycle age (Telesign would cut it at 499 s)
    hook.send_omnichannel(SMS_ONLY)

    first, second, third = (r.connection for r in posts(server))
    assert first == second
    assert third != second
    assert server.connections_opened == 2


def test_the_hooks_pool_settings_reach_the_default_transport(telesign_conn: str) -> None:
    hook = TelesignHook(telesign_conn, pool_recycle=0.3, pool_maxsize=4)
    transport = hook.get_conn().get_adapter(hook.url(SEND_PATH))
    assert isinstance(transport, PooledTransport)
    assert (transport.pool_recycle, transport._pool_maxsize) == (0.3, 4)
    assert TelesignHook(telesign_conn).get_conn().get_adapter(hook.url(SEND_PATH)).pool_recycle == DEFAULT_POOL_RECYCLE  # type: ignore[attr-defined]


# ---- one real retry or failure of each kind -------------------------------------------------


def test_503_is_retried_for_real(server: LocalHttpServer, telesign_conn: str) -> None:
    server.enqueue(Reply(503, {"status": {"code": 3500, "description": "System unavailable"}}))
    waits: list[float] = []

    answer = TelesignHook(telesign_conn, sleep=waits.append, **FAST).send_omnichannel(SMS_ONLY)

    assert answer.accepted
    first, second = posts(server)
    assert first.body == second.body
    assert len(waits) == 1


def test_connection_refused_is_retried_for_real(make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", f"http://127.0.0.1:{free_port()}", CUSTOMER_ID, API_KEY, extra={"max_retries": 2})
    transport = CountingTransport()

    with pytest.raises(VendorUnavailableError) as err:
        TelesignHook(conn_id, transport=transport, **FAST).send_omnichannel(SMS_ONLY)

    assert "cannot connect" in str(err.value)
    assert transport.attempts == 3
    assert _chain(err.value.__cause__) == _chain(_scripted(connect_refused))


def test_test_connection_unreachable(make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", f"http://127.0.0.1:{free_port()}", CUSTOMER_ID, API_KEY, extra={"max_retries": 0})
    ok, message = TelesignHook(conn_id).test_connection()
    assert not ok
    assert "cannot connect" in message


def test_read_timeout_is_unknown_outcome_and_never_resent(server: LocalHttpServer, make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", server.url, CUSTOMER_ID, API_KEY, extra={"timeout": 0.3, "max_retries": 3})
    server.default = Reply(200, TELESIGN_ACCEPTED, delay=1.0)
    transport = CountingTransport()

    with pytest.raises(SendOutcomeUnknownError) as err:
        TelesignHook(conn_id, transport=transport, **FAST).send_omnichannel(SMS_ONLY)

    assert transport.attempts == 1  # the hook sends every attempt before it returns: no second request
    assert len(posts(server)) == 1
    assert _chain(err.value.__cause__) == _chain(_scripted(read_timeout))


def test_connection_dropped_after_send_is_unknown_outcome(server: LocalHttpServer, telesign_conn: str) -> None:
    server.default = Reply(drop=True)
    transport = CountingTransport()

    with pytest.raises(SendOutcomeUnknownError) as err:
        TelesignHook(telesign_conn, transport=transport, **FAST).send_omnichannel(SMS_ONLY)

    assert transport.attempts == 1
    assert len(posts(server)) == 1
    assert _chain(err.value.__cause__) == _chain(_scripted(dropped))


def test_proxy_from_environment_is_used(
    server: LocalHttpServer, make_conn: ConnFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    server.default = Reply(200, TELESIGN_ACCEPTED)
    conn_id = make_conn("telesign", "http://telesign.invalid", CUSTOMER_ID, API_KEY)

    TelesignHook(conn_id).send_omnichannel(SMS_ONLY)

    [sent] = server.requests
    assert sent.path == "http://telesign.invalid/v1/omnichannel"  # absolute URL: the server acted as the proxy


def test_an_unreachable_proxy_is_a_connect_error(make_conn: ConnFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    conn_id = make_conn("telesign", "http://telesign.invalid", CUSTOMER_ID, API_KEY, extra={"max_retries": 1})
    transport = CountingTransport()

    with pytest.raises(VendorUnavailableError, match="cannot connect"):
        TelesignHook(conn_id, transport=transport, **FAST).send_omnichannel(SMS_ONLY)

    assert transport.attempts == 2  # nothing reached the vendor: retried like a refused connection
