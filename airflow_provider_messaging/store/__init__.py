"""Message store (SQLAlchemy 2): SQLite by default, PostgreSQL by URL. Never imports Airflow."""

from airflow_provider_messaging.store.store import (
    DEFAULT_SEND_LEASE_SECONDS,
    CampaignCounts,
    CapGate,
    DeliveryRecord,
    InboundRecord,
    MessageStore,
    NewInbound,
    Reservation,
    ReservationReason,
    SchemaOutdatedError,
    SendIntent,
    SendStatus,
    StoreError,
    StoreUnavailableError,
    skip_code,
    skip_error,
)

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
