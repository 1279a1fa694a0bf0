"""Acme's callback adapter: ``POST /acme/status`` and ``POST /acme/inbound`` (receiver layer).

Acme does not sign callbacks: its routes open with the shared secret once ``acme`` is listed in
``[messaging] callback_secret_vendors``.
"""

from __future__ import annotations

from airflow_provider_messaging.models.base import validate
from airflow_provider_messaging.models.status import ChannelEvent
from airflow_provider_messaging.receiver.parsing import DeliveryUpdate, storable_inbound, storable_update
from airflow_provider_messaging.receiver.vendors import CallbackAdapter
from airflow_provider_messaging.store import NewInbound
from tests.vendors.acme.models import STOP_WORDS, DeliveryCallback, InboundCallback, acme_state


class AcmeCallbacks(CallbackAdapter):
    vendor = "acme"
    title = "Acme"

    def parse_delivery(self, data: object) -> DeliveryUpdate:
        callback = validate(DeliveryCallback, data)
        event = ChannelEvent("sms", acme_state(callback.status), callback.status, None, None, callback.at)
        return storable_update(DeliveryUpdate(callback.id, [event]), "DeliveryCallback", "id")

    def parse_inbound(self, data: object) -> NewInbound:
        message = validate(InboundCallback, data)
        word = (message.text or "").strip().lower()
        keyword = word if word in STOP_WORDS else None
        inbound = NewInbound(
            channel="sms",
            sender=message.sender,
            recipient=message.to,
            text=message.text,
            action="stop" if keyword else ("generic" if message.text else None),
            keyword=keyword,
            reference_id=message.id,
            received_at=message.at,
        )
        return storable_inbound(inbound, "InboundCallback")
