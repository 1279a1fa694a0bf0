"""Apache Airflow provider for business messaging through Telesign and Aerialink."""

__version__ = "0.1.0"
