"""Every route of the receiver declares its authentication as a FastAPI dependency in its signature.

A new route without one fails :func:`test_every_route_declares_its_guard`. The callback guard keeps the
order of the checks (415 and 413 before the credentials), reads the body once, and answers a pending
credential lookup or an internal fault with a retryable 503, never a 500.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from fastapi import FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from airflow_provider_messaging import vendors
from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.receiver.auth import CallbackAuth
from airflow_provider_messaging.receiver.dependencies import AIRFLOW_LOGIN, CALLBACK, PUBLIC, guard_kind
from airflow_provider_messaging.store import MessageStore
from tests.receiver.receiver_support import (
    CUSTOMER_ID,
    TOKEN,
    Receiver,
    body_of,
    counts,
    make_auth,
    signed_headers,
)
from tests.support.uvicorn_server import serve_app
from tests.support.waiting import wait_for
from tests.vendor_examples import load

#: Open by design: the load balancer's probe, and the Messages view's page and assets (they carry no data).
PUBLIC_ROUTES = {"/health", "/ui", "/ui/", "/ui/static/{name}"}
DELIVERY = body_of(load("telesign_delivery_callback_rcs_sms"))
AERIALINK = body_of({"messageGUID": "g-1", "status": "SUCCESS", "channel": "RCS"})


def _guards(dependant: Dependant) -> list[Any]:
    """The guard dependencies anywhere in a route's dependency tree."""
    found = [dependant.call] if guard_kind(dependant.call) else []
    for sub in dependant.dependencies:
        found.extend(_guards(sub))
    return found


def _unguarded(app: FastAPI) -> list[str]:
    """Routes that declare no guard in their own signature, or that are not API routes (no dependencies at all)."""
    missing = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            missing.append(repr(route))
        elif not [d for d in route.dependant.dependencies if guard_kind(d.call)]:
            missing.append(f"{sorted(route.methods)} {route.path}")
    return missing


def _never_opened() -> MessageStore:
    raise AssertionError("building the app must not open the store")


def test_every_route_declares_its_guard(acme: vendors.VendorSpec) -> None:
    app = create_app(store=_never_opened, auth=CallbackAuth())
    assert _unguarded(app) == []
    seen: dict[str, set[str]] = {}
    for route in app.routes:
        assert isinstance(route, APIRoute)
        guards = _guards(route.dependant)
        kinds = {guard_kind(g) for g in guards}
        assert len(kinds) == 1, (route.path, kinds)  # one kind per route: never "public and ..."
        seen.setdefault(kinds.pop(), set()).add(route.path)
        if route.path.startswith("/ui/api/"):
            access = {g.messaging_guard_access for g in guards}
            assert access == ({"write"} if route.methods == {"DELETE"} else {"read"}), route.path
    assert seen[PUBLIC] == PUBLIC_ROUTES
    assert "/report" in seen[AIRFLOW_LOGIN] and "/ui/api/messages" in seen[AIRFLOW_LOGIN]
    # each registered vendor's routes (the test-only acme too) carry that vendor's verification
    expected = {f"/{spec.name}/{route.kind}" for spec in vendors.vendors() for route in spec.load_adapter().routes}
    assert seen[CALLBACK] == expected and "/acme/status" in expected
    for route in app.routes:
        assert isinstance(route, APIRoute)
        for guard in _guards(route.dependant):
            if guard_kind(guard) == CALLBACK:
                assert route.path.split("/")[1] == guard.messaging_guard_vendor


def test_a_route_without_a_guard_is_found() -> None:
    app = create_app(store=_never_opened, auth=CallbackAuth())

    @app.get("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    app.add_route("/plain", lambda request: None)
    assert _unguarded(app) == ["['GET'] /forgotten", repr(app.routes[-1])]


def test_checks_before_the_credentials_keep_their_order(sqlite_receiver: Receiver) -> None:
    """Form bodies are 415 and oversized ones 413 before any credential is looked at."""
    url = sqlite_receiver.url
    form = requests.post(
        url + "/telesign/status", data="a=b", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30
    )
    assert (form.status_code, form.json()["reason"]) == (415, "callbacks must be JSON")
    big = requests.post(url + "/aerialink/status", data=b"{" + b" " * 70000 + b"}", timeout=30)
    assert big.status_code == 413 and "65536" in big.json()["reason"]
    unsigned = requests.post(url + "/telesign/status", data=DELIVERY, timeout=30)
    assert unsigned.json() == {"status": "error", "reason": "callback not authenticated"}
    assert counts(sqlite_receiver.store)["callbacks"] == 0


class _Gate:
    """Telesign credentials that are returned only once the gate opens."""

    def __init__(self) -> None:
        self.open = threading.Event()

    def __call__(self) -> tuple[str, str]:
        assert self.open.wait(60)
        return make_auth().telesign_credentials()  # type: ignore[misc]


def test_a_pending_first_lookup_is_503_and_other_vendors_are_served(sqlite_store: MessageStore) -> None:
    gate = _Gate()
    auth = CallbackAuth(token=TOKEN, telesign_credentials=gate)
    assert auth.credentials is not None
    auth.credentials.wait = 0.05  # the first lookup is waited for this long, then the vendor is told to retry
    signed = signed_headers(DELIVERY, form="both")
    try:
        with serve_app(create_app(sqlite_store, auth)) as url:
            pending = requests.post(url + "/telesign/status", data=DELIVERY, headers=signed, timeout=30)
            assert pending.status_code == 503, pending.text
            assert pending.json()["reason"] == "credentials not available yet, retry later"
            assert pending.headers["Retry-After"] == "5"
            assert sqlite_store.count("callbacks") == 0
            # the shared secret needs no lookup: answered while the lookup is still held
            served = requests.post(url + "/aerialink/status", data=AERIALINK, params={"token": TOKEN}, timeout=30)
            assert served.status_code == 200, served.text
            gate.open.set()
            wait_for(
                lambda: auth.credentials is not None and auth.credentials.lookups == 1, 30, "the first lookup", 0.01
            )
            retried = requests.post(url + "/telesign/status", data=DELIVERY, headers=signed, timeout=30)
            assert retried.status_code == 200, retried.text
        assert sqlite_store.count("callbacks") == 2
    finally:
        gate.open.set()


def test_a_fault_in_verification_is_a_retryable_503_not_a_500(
    sqlite_store: MessageStore, caplog: pytest.LogCaptureFixture
) -> None:
    auth = CallbackAuth(telesign_credentials=lambda: (CUSTOMER_ID,))  # type: ignore[arg-type,return-value]
    with serve_app(create_app(sqlite_store, auth)) as url:
        answer = requests.post(url + "/telesign/status", data=DELIVERY, headers=signed_headers(DELIVERY), timeout=30)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json() == {"status": "error", "reason": "callback could not be stored, retry later"}
    assert "unexpected error authenticating a telesign callback" in caplog.text
    assert sqlite_store.count("callbacks") == 0


def test_the_login_dependency_is_injectable_and_keeps_each_routes_error_shape(sqlite_store: MessageStore) -> None:
    """``authenticate`` replaces Airflow's JWT check on the view and the report; the write flag reaches it."""
    calls: list[tuple[str, bool]] = []

    async def authenticate(request: Request, write: bool) -> str:
        calls.append((request.url.path, write))
        if request.headers.get("authorization") != "Bearer good":
            raise HTTPException(401, "no login", headers={"WWW-Authenticate": "Bearer"})
        return "tester"

    client = TestClient(create_app(store=sqlite_store, auth=CallbackAuth(token=TOKEN), authenticate=authenticate))
    refused = client.get("/report")
    assert refused.status_code == 401 and refused.json() == {"status": "error", "reason": "no login"}
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    view = client.get("/ui/api/me")
    assert view.status_code == 401 and view.json() == {"detail": "no login"}
    assert client.get("/ui/api/me", headers={"Authorization": "Bearer good"}).json() == {"user": "tester"}
    assert client.get("/report", headers={"Authorization": "Bearer good"}).status_code == 200
    # removing an opt-out: the XHR header is checked before the login, then the login with write=True
    assert client.delete("/ui/api/optouts/telesign/1", headers={"Authorization": "Bearer good"}).status_code == 403
    calls.clear()
    sqlite_store.add_opt_out("telesign", "15550000001")
    headers = {"Authorization": "Bearer good", "X-Requested-With": "XMLHttpRequest"}
    assert client.delete("/ui/api/optouts/telesign/15550000001", headers=headers).status_code == 200
    assert calls == [("/ui/api/optouts/telesign/15550000001", True)]
    # the callback secret opens neither; /health needs nothing
    assert client.get("/report", params={"token": TOKEN}).status_code == 401
    assert client.get("/health").json() == {"status": "ok"}
