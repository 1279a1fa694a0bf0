"""The schema version of a store: check it, migrate it (Alembic, see :mod:`.migrate`)."""

from __future__ import annotations

from airflow_provider_messaging.store import migrate
from airflow_provider_messaging.store.base import StoreBase
from airflow_provider_messaging.store.errors import SchemaOutdatedError, unavailable_as_store_error


class SchemaVersionPart(StoreBase):
    """Schema upgrades: the CLI's ``db upgrade``, and the check every process makes when it opens the store."""

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest version."""
        with unavailable_as_store_error():
            migrate.upgrade(self.engine)

    def schema_is_current(self) -> bool:
        with unavailable_as_store_error():
            return migrate.current_revision(self.read_engine) == migrate.head_revision()

    def ensure_schema(self, *, auto_upgrade: bool) -> None:
        """Check the schema version; migrate when allowed, else raise :class:`SchemaOutdatedError`."""
        if self.schema_is_current():
            return
        if not auto_upgrade:
            raise SchemaOutdatedError(
                f"The message store at {self.safe_url} is not at schema {migrate.head_revision()}: "
                "run `airflow-messaging db upgrade`."
            )
        self.upgrade()
