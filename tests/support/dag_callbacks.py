"""Callbacks for the test DAGs (tests/dags): importing this module is cheap, as a DAG file's imports must be."""

from __future__ import annotations

import json
import os
from typing import Any


def record_failure(context: Any) -> None:
    """on_failure_callback: append the task's exception to $OPS_FAILURE_LOG (``FailureLog`` in
    tests/operators/ops_support.py reads it); does nothing when the variable is unset."""
    path = os.environ.get("OPS_FAILURE_LOG")
    if not path:
        return
    ti, exc = context["ti"], context.get("exception")
    entry = {"dag_id": ti.dag_id, "task_id": ti.task_id, "map_index": ti.map_index, "try_number": ti.try_number}
    entry |= {"type": type(exc).__name__, "error": str(exc)}
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
