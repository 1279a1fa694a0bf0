"""Sensors layer of airflow-provider-messaging."""
