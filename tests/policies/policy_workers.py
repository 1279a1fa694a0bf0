"""Processes of the policy race test: each sends through its own ledger, store engine and HTTP session.

Kept free of Airflow imports so that eight of them start quickly; the vendor call is a plain HTTP POST
of the Telesign request to the test's local vendor stand-in.
"""

from __future__ import annotations

import uuid
from typing import Any


def vendor_call(url: str, body: dict[str, Any]) -> str:
    import requests

    response = requests.post(url, json=body, timeout=30)
    response.raise_for_status()
    return str(response.json()["reference_id"])


def send_one(store_url: str, vendor_url: str, key: str, recipient: str, policy: dict[str, Any], barrier: Any) -> str:
    from airflow_provider_messaging.policies import SendingPolicy
    from airflow_provider_messaging.sending import SendLedger, SendRequest
    from airflow_provider_messaging.store import MessageStore

    store = MessageStore(store_url)
    try:
        ledger = SendLedger(store, policy=SendingPolicy.from_dict(policy), lease_seconds=900)
        body = {
            "channels": [{"channel": "sms"}],
            "phone_number": recipient,
            "message": {"sms": {"template": "text", "parameters": {"text": f"offer {uuid.uuid4().hex[:6]}"}}},
            "message_type": "MKT",
        }
        request = SendRequest(
            key, "telesign", recipient, ("sms",), send=lambda: vendor_call(vendor_url, body), message_type="MKT"
        )
        barrier.wait(timeout=120)
        result = ledger.send(request)
        return f"{result.outcome.value}:{result.skip_code or ''}"
    finally:
        store.dispose()
