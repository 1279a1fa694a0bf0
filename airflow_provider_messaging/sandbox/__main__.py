"""``python -m airflow_provider_messaging.sandbox [options]`` (same options as ``main``)."""

import sys

from .server import main

sys.exit(main())
