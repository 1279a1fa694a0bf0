"""Hooks layer of airflow-provider-messaging."""
