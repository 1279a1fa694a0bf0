"""Message store (SQLAlchemy 2): SQLite by default, PostgreSQL by URL. Never imports Airflow."""

from airflow_provider_messaging.store.store import (
    DeliveryRecord,
    InboundRecord,
    MessageStore,
    NewInbound,
    Reservation,
    SchemaOutdatedError,
    SendStatus,
    StoreError,
    StoreUnavailableError,
)

__all__ = [
    "DeliveryRecord",
    "InboundRecord",
    "MessageStore",
    "NewInbound",
    "Reservation",
    "SchemaOutdatedError",
    "SendStatus",
    "StoreError",
    "StoreUnavailableError",
]
