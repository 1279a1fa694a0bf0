"""Message store (SQLAlchemy 2): SQLite by default, PostgreSQL by URL. Never imports Airflow.

:class:`MessageStore` (``store.py``) is the facade; each module beside it is one part of it.
"""

from airflow_provider_messaging.store.errors import SchemaOutdatedError, StoreError, StoreUnavailableError
from airflow_provider_messaging.store.records import (
    DEFAULT_SEND_LEASE_SECONDS,
    CampaignCounts,
    CapGate,
    DeliveryRecord,
    InboundRecord,
    NewInbound,
    Reservation,
    ReservationReason,
    SendIntent,
    SendStatus,
    skip_code,
    skip_error,
)
from airflow_provider_messaging.store.store import MessageStore

__all__ = [
    "DEFAULT_SEND_LEASE_SECONDS",
    "CampaignCounts",
    "CapGate",
    "DeliveryRecord",
    "InboundRecord",
    "MessageStore",
    "NewInbound",
    "Reservation",
    "ReservationReason",
    "SchemaOutdatedError",
    "SendIntent",
    "SendStatus",
    "StoreError",
    "StoreUnavailableError",
    "skip_code",
    "skip_error",
]
