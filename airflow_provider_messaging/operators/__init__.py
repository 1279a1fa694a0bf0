"""Operators layer of airflow-provider-messaging."""
