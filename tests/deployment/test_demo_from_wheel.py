"""``airflow-messaging demo`` as a pip user runs it: from the installed wheel, outside any clone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


@pytest.mark.timeout(600)
def test_demo_runs_every_example_from_the_installed_wheel(installed_python: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
    result = subprocess.run(
        [str(installed_python.parent / "airflow-messaging"), "demo"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,  # no example_dags/ anywhere near: they come from the package
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Demo OK: every example ended as its scenario says (8 DAGs)" in result.stdout
    for dag_id in ("example_telesign_rcs_call_button", "example_aerialink_rcs_carousel", "example_bulk_notifications"):
        assert dag_id in result.stdout
    assert "DELIVERED via sms" in result.stdout and "FAILED" in result.stdout
    assert "[info" not in result.stdout and "Context impl" not in result.stdout, "Airflow logs go to stderr"
