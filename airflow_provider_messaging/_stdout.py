"""Keep stdout for a command's output: Airflow's log lines go to stderr."""

from __future__ import annotations

import sys


def airflow_logs_to_stderr() -> None:
    """Import Airflow with ``sys.stdout`` pointed at stderr.

    Airflow configures logging when it is imported, writing to whatever ``sys.stdout`` is at that moment
    (Alembic's INFO lines among others), so importing it this way first keeps stdout for the command's
    own output and ``--json`` output parses. Set ``AIRFLOW_HOME`` and friends before calling this.
    """
    stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        from airflow_provider_messaging.compat import conf  # noqa: F401  (loads Airflow's configuration)
    except ImportError:  # the receiver and the CLI also run from plain environment variables
        pass
    finally:
        sys.stdout = stdout
