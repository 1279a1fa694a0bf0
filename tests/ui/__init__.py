"""UI tests: the Messages view and the connection forms, in a real Airflow API server and browser."""
