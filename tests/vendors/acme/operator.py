"""Acme's send operator (operators layer): build the model, name the hook; the send ledger does the rest."""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel

from airflow_provider_messaging.operators.base import MessagingSendOperator


class AcmeSmsOperator(MessagingSendOperator):
    """Send an SMS through Acme.

    :param phone_number: recipient, digits with country code (templated).
    :param text: the message (templated).
    :param acme_conn_id: connection of type *Acme*.
    """

    vendor: ClassVar[str] = "acme"
    template_fields = ("phone_number", "text", "acme_conn_id", *MessagingSendOperator.base_template_fields)

    def __init__(
        self, *, phone_number: str | None = None, text: str = "", acme_conn_id: str = "acme_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.phone_number = phone_number
        self.text = text
        self.acme_conn_id = acme_conn_id

    @cached_property
    def hook(self) -> Any:
        from tests.vendors.acme.hook import AcmeHook

        return AcmeHook(acme_conn_id=self.acme_conn_id)

    def build_payload(self, recipient: str | None = None) -> BaseModel:
        from airflow_provider_messaging.models.base import validate
        from tests.vendors.acme.models import SmsRequest

        return validate(SmsRequest, {"to": recipient or self.phone_number, "text": self.text})

    def recipient_of(self, payload: BaseModel) -> str:
        return str(payload.to)  # type: ignore[attr-defined]

    def cascade_of(self, payload: BaseModel) -> list[str]:
        return ["sms"]

    def send_payload(self, payload: BaseModel) -> str:
        return str(self.hook.send_sms(payload).id)
