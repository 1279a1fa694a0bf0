"""Store layer of airflow-provider-messaging."""
