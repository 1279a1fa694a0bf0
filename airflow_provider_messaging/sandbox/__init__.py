"""Sandbox layer of airflow-provider-messaging."""
