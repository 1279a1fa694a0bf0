"""Apache Airflow provider for business messaging through Telesign and Aerialink."""

__version__ = "0.1.0"

from airflow_provider_messaging.compat import check_supported as _check_supported

_check_supported()  # Airflow 3.0 or older: a clear ImportError on the first import of this package
