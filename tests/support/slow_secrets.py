"""A real Airflow secrets backend that is slow on purpose: every connection lookup waits at a gate.

Configured like any backend (``AIRFLOW__SECRETS__BACKEND=support.slow_secrets.GatedSecretsBackend``,
``AIRFLOW__SECRETS__BACKEND_KWARGS={"entered": PATH, "gate": PATH}``): a lookup creates the file
``entered`` (so a test knows a lookup is in progress), then waits until the file ``gate`` exists
(at most ``max_wait`` seconds) and returns nothing, so Airflow goes on to the next backend (the
environment variables). A test can thus hold a lookup "slow" for exactly as long as it needs.
"""

from __future__ import annotations

import time
from pathlib import Path

from airflow.secrets import BaseSecretsBackend


class GatedSecretsBackend(BaseSecretsBackend):
    def __init__(self, entered: str, gate: str, max_wait: float = 60.0, **kwargs: object) -> None:
        super().__init__()
        self.entered = Path(entered)
        self.gate = Path(gate)
        self.max_wait = max_wait

    def get_conn_value(self, conn_id: str) -> str | None:
        with self.entered.open("a") as marker:
            marker.write(f"{conn_id}\n")
        deadline = time.monotonic() + self.max_wait
        while not self.gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return None

    def get_variable(self, key: str) -> str | None:
        return None

    def get_config(self, key: str) -> str | None:
        return None
