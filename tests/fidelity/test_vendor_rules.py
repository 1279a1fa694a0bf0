"""Every documented vendor rule (``tests/vendor_rules.py``) against the models AND the sandbox over HTTP.

What the models send, the sandbox accepts; what the models refuse, the sandbox refuses at the same
vendor path (Aerialink) or with the documented status code (Telesign). The sandbox imports none of
our models, so a rule written wrongly on one side shows up here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models import aerialink, telesign
from airflow_provider_messaging.models.base import VendorModel
from airflow_provider_messaging.sandbox import SandboxConfig, SandboxServer
from tests.vendor_rules import RULES, Rule

PARSE = {"telesign": telesign.OmnichannelRequest.parse, "aerialink": aerialink.parse_message}
PATH = {"telesign": "/v1/omnichannel", "aerialink": "/v5/messages"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServer, requests.Session]]:
    # No callback URLs and an hour before the first event: nothing leaves the sandbox during the table.
    server = SandboxServer(SandboxConfig(base_delay_s=3600.0)).start()
    session = requests.Session()
    yield server, session
    session.close()
    server.stop()


def _post(sandbox: tuple[SandboxServer, requests.Session], rule: Rule, body: bytes) -> requests.Response:
    server, session = sandbox
    config = server.config
    auth = (
        (config.telesign_customer_id, config.telesign_api_key)
        if rule.vendor == "telesign"
        else (config.aerialink_username, config.aerialink_password)
    )
    headers = {"Content-Type": "application/json"}
    return session.post(f"{server.url}{PATH[rule.vendor]}", data=body, auth=auth, headers=headers, timeout=10)


def _refused_at(rule: Rule, response: requests.Response) -> list[Any]:
    assert response.status_code == 400, response.text
    body = response.json()
    if rule.vendor == "telesign":
        return [e["code"] for e in body["errors"]]
    return [e["field"] for e in body["data"]]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_in_models_and_sandbox(rule: Rule, sandbox: tuple[SandboxServer, requests.Session]) -> None:
    if rule.valid:
        model = PARSE[rule.vendor](rule.payload)
        assert isinstance(model, VendorModel)
        assert model.to_wire() == (rule.wire or rule.payload)
        response = _post(sandbox, rule, model.wire_bytes())  # exactly what the hook sends
        assert response.status_code == 200, response.text
        return
    with pytest.raises(PayloadValidationError) as info:
        PARSE[rule.vendor](rule.payload)
    assert rule.field in info.value.fields, info.value.errors
    expected = rule.code if rule.vendor == "telesign" else rule.field
    raw = json.dumps(rule.payload, ensure_ascii=False).encode()
    assert expected in _refused_at(rule, _post(sandbox, rule, raw))


def test_table_covers_both_vendors_and_both_verdicts() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    for vendor in ("telesign", "aerialink"):
        mine = [r for r in RULES if r.vendor == vendor]
        assert any(r.valid for r in mine) and any(not r.valid for r in mine)
    assert all(r.code is not None for r in RULES if r.vendor == "telesign" and not r.valid)


@pytest.mark.parametrize("vendor", ["telesign", "aerialink"])
def test_extra_fields_reach_the_sandbox(vendor: str, sandbox: tuple[SandboxServer, requests.Session]) -> None:
    rule = next(r for r in RULES if r.vendor == vendor and r.valid)
    model = PARSE[vendor]({**rule.payload, "extra_fields": {"newVendorField": {"on": True}}})
    assert json.loads(model.wire_bytes())["newVendorField"] == {"on": True}
    assert _post(sandbox, rule, model.wire_bytes()).status_code == 200
