"""Models layer of airflow-provider-messaging."""
