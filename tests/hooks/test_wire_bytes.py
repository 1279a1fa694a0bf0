"""The hooks send the one serializer's bytes: compact UTF-8 JSON in the docs' key order, extras merged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_messaging.hooks.aerialink import SEND_PATH as AERIALINK_PATH
from airflow_provider_messaging.hooks.aerialink import AerialinkHook
from airflow_provider_messaging.hooks.telesign import SEND_PATH as TELESIGN_PATH
from airflow_provider_messaging.hooks.telesign import TelesignHook
from airflow_provider_messaging.models.telesign import MAX_PAYLOAD_BYTES, OmnichannelRequest, payload_size
from tests.support.http_server import LocalHttpServer
from tests.vendor_examples import load


def _compact(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize(
    "name", ["telesign_call_button_request", "telesign_link_button_request", "telesign_whatsapp_file_request"]
)
def test_telesign_hook_sends_the_docs_example_byte_for_byte(
    server: LocalHttpServer, telesign_conn: str, name: str
) -> None:
    TelesignHook(telesign_conn).send_omnichannel(load(name))
    [sent] = server.requests_to(TELESIGN_PATH, "POST")
    assert sent.body == _compact(load(name))


@pytest.mark.parametrize(
    "name", ["aerialink_rcs_text", "aerialink_rcs_media", "aerialink_rcs_card", "aerialink_rcs_carousel"]
)
def test_aerialink_hook_sends_the_docs_example_byte_for_byte(
    server: LocalHttpServer, aerialink_conn: str, name: str
) -> None:
    AerialinkHook(aerialink_conn).send_message(load(name))
    [sent] = server.requests_to(AERIALINK_PATH, "POST")
    assert sent.body == _compact(load(name))


def test_non_ascii_message_at_the_limit_is_sent_as_raw_utf8(server: LocalHttpServer, telesign_conn: str) -> None:
    data = load("telesign_call_button_request")
    data["message"]["sms"]["parameters"]["text"] = ""
    room = MAX_PAYLOAD_BYTES - len(_compact(data))
    data["message"]["sms"]["parameters"]["text"] = "é" * (room // 2) + "x" * (room % 2)
    # json.dumps' defaults (spaces, \u00e9 escapes) would measure ~3x more than what is sent
    assert len(json.dumps(data).encode()) > MAX_PAYLOAD_BYTES
    assert payload_size(OmnichannelRequest.parse(data)) == MAX_PAYLOAD_BYTES

    TelesignHook(telesign_conn).send_omnichannel(data)
    [sent] = server.requests_to(TELESIGN_PATH, "POST")
    assert len(sent.body) == MAX_PAYLOAD_BYTES
    assert "é".encode() in sent.body and b"\\u00e9" not in sent.body


def test_extra_fields_reach_the_wire(server: LocalHttpServer, telesign_conn: str) -> None:
    data = load("telesign_call_button_request")
    data["extra_fields"] = {"priority": "high"}
    data["message"]["rcs"]["parameters"]["extra_fields"] = {"dial_icon": "phone"}
    TelesignHook(telesign_conn).send_omnichannel(data)
    [sent] = server.requests_to(TELESIGN_PATH, "POST")
    body = sent.json()
    assert body["priority"] == "high"
    assert body["message"]["rcs"]["parameters"]["dial_icon"] == "phone"
    assert "extra_fields" not in sent.body.decode()
