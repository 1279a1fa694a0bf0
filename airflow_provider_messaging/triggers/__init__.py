"""Triggers layer of airflow-provider-messaging."""
