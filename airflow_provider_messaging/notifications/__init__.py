"""Notifications layer of airflow-provider-messaging."""
