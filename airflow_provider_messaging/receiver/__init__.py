"""Receiver layer of airflow-provider-messaging."""
