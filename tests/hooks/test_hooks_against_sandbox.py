"""The hooks against the package's vendor emulator: both sides of the wire contract agree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_messaging.exceptions import VendorAPIError
from airflow_provider_messaging.hooks.aerialink import AerialinkHook
from airflow_provider_messaging.hooks.telesign import TelesignHook
from airflow_provider_messaging.sandbox.config import SandboxConfig
from airflow_provider_messaging.sandbox.server import SandboxServer
from tests.hooks.conftest import ConnFactory
from tests.vendor_examples import load


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxConfig()).start()
    yield server
    server.stop()


def test_telesign(sandbox: SandboxServer, make_conn: ConnFactory) -> None:
    cfg = sandbox.config
    hook = TelesignHook(make_conn("telesign", sandbox.url, cfg.telesign_customer_id, cfg.telesign_api_key))
    request = load("telesign_call_button_request")

    assert hook.test_connection()[0]
    assert hook.send_omnichannel(request).accepted

    with pytest.raises(VendorAPIError) as err:  # scenario 6: rejected phone number
        hook.send_omnichannel({**request, "phone_number": "15558675306"})
    assert (err.value.http_status, err.value.code) == (400, 3101)

    # scenario 8: 429 with Retry-After: 1 on the first attempt, then accepted
    assert hook.send_omnichannel({**request, "phone_number": "15558675308"}).accepted


def test_aerialink(sandbox: SandboxServer, make_conn: ConnFactory) -> None:
    cfg = sandbox.config
    conn_id = make_conn(
        "aerialink", sandbox.url, cfg.aerialink_username, cfg.aerialink_password, extra={"default_source": "CONVEY"}
    )
    hook = AerialinkHook(conn_id)

    assert hook.test_connection()[0]
    assert not AerialinkHook(make_conn("aerialink", sandbox.url, "someone", "wrong-password")).test_connection()[0]
    for name in ("aerialink_rcs_text", "aerialink_rcs_card", "aerialink_rcs_carousel", "aerialink_rcs_media"):
        assert len(hook.send_message(load(name)).guids) == 1
