"""Alembic environment: runs on the connection handed over by ``store.migrate.upgrade``."""

from alembic import context

from airflow_provider_messaging.store.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
