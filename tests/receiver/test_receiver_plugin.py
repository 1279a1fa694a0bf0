"""The Airflow plugin mounts the receiver under /messaging, as the API server does it (``init_plugins``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import requests
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from airflow_provider_messaging import config
from airflow_provider_messaging.plugin import MessagingPlugin
from airflow_provider_messaging.store import MessageStore
from tests.receiver.receiver_support import body_of, signed_headers
from tests.support.uvicorn_server import serve_app
from tests.vendor_examples import load


def test_plugin_declares_the_receiver_app() -> None:
    [entry] = MessagingPlugin.fastapi_apps
    assert entry["url_prefix"] == "/messaging"
    assert entry["name"]
    app = entry["app"]
    assert isinstance(app, FastAPI)
    routes = {(getattr(r, "path", ""), method) for r in app.routes for method in getattr(r, "methods", ()) or ()}
    assert {
        ("/telesign/status", "GET"),
        ("/telesign/status", "POST"),
        ("/telesign/inbound", "GET"),
        ("/telesign/inbound", "POST"),
        ("/aerialink/status", "POST"),
        ("/aerialink/inbound", "POST"),
        ("/health", "GET"),
    } <= routes


def test_airflow_mounts_the_plugin_app_under_messaging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow import plugins_manager
    from airflow.api_fastapi.app import init_plugins

    apps, _ = plugins_manager.get_fastapi_plugins()  # found through the airflow.plugins entry point
    assert any(
        entry["url_prefix"] == "/messaging" and entry["app"] is MessagingPlugin.fastapi_apps[0]["app"] for entry in apps
    )

    url = f"sqlite:///{tmp_path / 'plugin.db'}"
    monkeypatch.setenv("AIRFLOW__MESSAGING__STORE_URL", url)
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_TOKEN", "plugin-token")
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_AUTH_DISABLED", "False")
    api_server = FastAPI()
    init_plugins(api_server)
    try:
        with serve_app(api_server) as base, requests.Session() as session:
            assert session.get(base + "/messaging/health", timeout=30).json() == {"status": "ok"}
            body = body_of({"messageGUID": "plugin-guid-1", "status": "SUCCESS", "channel": "RCS"})
            ok = session.post(
                base + "/messaging/aerialink/status", data=body, params={"token": "plugin-token"}, timeout=30
            )
            assert ok.status_code == 200, ok.text
            # routes of a plugin app are not behind Airflow's login: the receiver itself refuses strangers
            telesign = body_of(load("telesign_delivery_callback_rcs_sms"))
            for refused in (
                session.post(base + "/messaging/telesign/status", data=telesign, headers=signed_headers(telesign)),
                # the shared secret opens only the vendors configured for it (Aerialink by default)
                session.post(base + "/messaging/telesign/status", data=telesign, params={"token": "plugin-token"}),
            ):
                assert refused.status_code == 401
            assert session.post(base + "/aerialink/status", data=body, timeout=30).status_code == 404
            # no API docs of the receiver are published, with or without the callback secret
            for path in (
                "/messaging/docs",
                "/messaging/redoc",
                "/messaging/openapi.json",
                "/messaging/docs/oauth2-redirect",
            ):
                for params in ({}, {"token": "plugin-token"}):
                    assert session.get(base + path, params=params, timeout=30).status_code in (401, 404), path
        store = MessageStore(url)
        assert len(store.callbacks_for("plugin-guid-1")) == 1
        store.dispose()
    finally:
        config.reset_stores()


def test_every_operation_id_is_unique_and_no_duplicate_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's API server warns "Duplicate Operation ID" for a route served on two methods under one id."""
    from airflow.api_fastapi.app import init_plugins

    api_server = FastAPI()
    init_plugins(api_server)
    app = MessagingPlugin.fastapi_apps[0]["app"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = get_openapi(title="receiver", version="1", routes=app.routes)
        api_server.openapi()
    assert not [w for w in caught if "Duplicate Operation ID" in str(w.message)], [str(w.message) for w in caught]
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids)) >= 7
    assert {"messaging_telesign_status_get", "messaging_telesign_status_post", "messaging_report"} <= set(ids)
