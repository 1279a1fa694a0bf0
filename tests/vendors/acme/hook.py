"""Acme's hook (hooks layer): the shared HTTP layer does auth, pooling, retries and error mapping."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_messaging.exceptions import SendOutcomeUnknownError
from airflow_provider_messaging.hooks.base import MessagingHttpHook
from airflow_provider_messaging.models.base import wire_bytes
from tests.vendors.acme.models import SmsRequest, SmsResponse


class AcmeHook(MessagingHttpHook):
    """Send an SMS through Acme. Connection: login/password (Basic), host; extra ``callback_url``."""

    conn_name_attr = "acme_conn_id"
    default_conn_name = "acme_default"
    conn_type = "acme"
    hook_name = "Acme"
    vendor = "Acme"
    default_host = "https://api.acme.invalid"
    probe: ClassVar[tuple[str, str, bytes | None, frozenset[int]]] = ("GET", "/v1/me", None, frozenset({200}))

    def __init__(self, acme_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(acme_conn_id, **kwargs)
        self.acme_conn_id = acme_conn_id

    def send_sms(self, request: SmsRequest) -> SmsResponse:
        """Send one SMS (the connection's ``callback_url`` when the request has none); return its id."""
        callback_url = self.extra("callback_url")
        if request.callback_url is None and callback_url:
            request = request.model_copy(update={"callback_url": str(callback_url)})
        response = self.post_json("/v1/sms", wire_bytes(request))
        try:
            return SmsResponse.model_validate_json(response.content)
        except ValueError:
            raise SendOutcomeUnknownError("Acme answered without a message id; not re-sent") from None
