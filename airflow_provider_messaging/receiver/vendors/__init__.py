"""Callback adapters: what the receiver needs from each vendor (routes, verification, parsing).

One module per vendor (``telesign.py``, ``aerialink.py``), each found through the vendor registry
(:mod:`airflow_provider_messaging.vendors`). The receiver app builds its routes from the adapters and
hands every authenticated JSON body to the adapter of the route's vendor; nothing in the receiver
names a vendor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from airflow_provider_messaging.receiver.parsing import DeliveryUpdate
from airflow_provider_messaging.store import NewInbound

CallbackKind = Literal["status", "inbound"]


@dataclass(frozen=True)
class CallbackRoute:
    """One callback route: ``/{vendor}/{kind}`` answering ``methods`` (one API operation per method)."""

    kind: CallbackKind
    methods: tuple[str, ...] = ("POST",)


class CallbackAdapter(ABC):
    """A vendor's callbacks: its routes, how they are verified, how their bodies become store records.

    Subclasses set :attr:`vendor` and :attr:`title` and implement :meth:`parse_delivery` and
    :meth:`parse_inbound`. Parsers raise ``PayloadValidationError`` on bad input (the receiver answers 400).

    Verification runs as a FastAPI dependency declared in each of the adapter's routes
    (``CallbackGuard.verifier(adapter)`` in :mod:`airflow_provider_messaging.receiver.dependencies`),
    over the raw body: every route accepts the shared callback secret (``?token=`` or Basic) when the
    vendor is listed in ``[messaging] callback_secret_vendors``; an adapter with :attr:`signed` set also
    accepts a signature checked by :meth:`verify_signature` against the signing credentials the
    receiver was given (Telesign's connection).
    """

    vendor: ClassVar[str] = ""
    title: ClassVar[str] = ""
    routes: ClassVar[tuple[CallbackRoute, ...]] = (CallbackRoute("status"), CallbackRoute("inbound"))
    signed: ClassVar[bool] = False

    @abstractmethod
    def parse_delivery(self, data: object) -> DeliveryUpdate:
        """A delivery (status) callback body -> the message id and its channel events."""

    @abstractmethod
    def parse_inbound(self, data: object) -> NewInbound:
        """An inbound (MO) callback body -> the inbound record to store."""

    def verify_signature(
        self, raw_body: bytes, headers: Mapping[str, str], customer_id: str | None, api_key: str
    ) -> bool:
        """True when the body is signed with these credentials (only called when :attr:`signed`)."""
        return False


__all__ = ["CallbackAdapter", "CallbackKind", "CallbackRoute", "DeliveryUpdate"]
