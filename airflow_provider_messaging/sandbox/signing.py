"""Telesign callback signature (vendor-notes §1.3): base64(HMAC-SHA256(base64decode(api_key), raw body))."""

from __future__ import annotations

import base64
import hashlib
import hmac


def telesign_signature(key: bytes, body: bytes) -> str:
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def telesign_callback_headers(customer_id: str, key: bytes, body: bytes) -> dict[str, str]:
    """Both headers Telesign sends with each callback."""
    signature = telesign_signature(key, body)
    return {"X-TS-Authorization": signature, "Authorization": f"TSA {customer_id}:{signature}"}
