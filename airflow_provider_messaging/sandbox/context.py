"""What every route needs: the settings, the shared state and the callback dispatcher."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .callbacks import CallbackDispatcher, Delivery
from .config import SandboxConfig
from .signing import telesign_callback_headers
from .state import SandboxState


@dataclass
class SandboxContext:
    config: SandboxConfig
    state: SandboxState
    dispatcher: CallbackDispatcher

    def telesign_delivery(
        self, url: str, payload: dict[str, Any], kind: str, message_id: str | None, event: str | None
    ) -> Delivery:
        """A Telesign callback: raw JSON body signed with the API key, both signature headers set."""
        body = json.dumps(payload).encode("utf-8")
        headers = {
            **self.config.callback_headers,
            **telesign_callback_headers(self.config.telesign_customer_id, self.config.telesign_key_bytes, body),
        }
        method = self.config.telesign_callback_method if kind == "delivery" else "POST"
        return Delivery("telesign", kind, url, body, headers, method, None, message_id, event)

    def aerialink_delivery(
        self, url: str, payload: dict[str, Any], kind: str, message_id: str | None, event: str | None
    ) -> Delivery:
        """An Aerialink callback (the vendor documents no signing): optional Basic auth and extra headers."""
        body = json.dumps(payload).encode("utf-8")
        auth = None
        if self.config.callback_username is not None:
            auth = (self.config.callback_username, self.config.callback_password or "")
        return Delivery(
            "aerialink", kind, url, body, dict(self.config.callback_headers), "POST", auth, message_id, event
        )
