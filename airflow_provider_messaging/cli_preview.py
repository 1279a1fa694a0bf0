"""``airflow-messaging preview DAG_ID TASK_ID``: what a send task would send, without a run.

The DAG file is parsed as the scheduler would, the task's templates are rendered with the given run
conf, and the task runs in dry-run mode: payloads validated, opt-outs and the sending policy applied,
SMS segments computed. Nothing is sent, nothing is reserved, no DAG run is created (templates that read
upstream XComs render empty).
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any


class PreviewError(Exception):
    """The task cannot be previewed (unknown DAG or task, not a send operator, a mapped task)."""


def _load_dag(dag_id: str, dags_folder: str | None) -> Any:
    from airflow_provider_messaging.compat import DagBag

    bag = DagBag(dag_folder=dags_folder) if dags_folder else DagBag()
    dag = bag.dags.get(dag_id)  # not get_dag(): that reads Airflow's metadata database
    if dag is None:
        errors = "".join(f"\n  {path}: {error.strip().splitlines()[-1]}" for path, error in bag.import_errors.items())
        raise PreviewError(f"no DAG {dag_id!r} in {bag.dag_folder}" + (f"; import errors:{errors}" if errors else ""))
    return dag


def preview_task(
    dag_id: str, task_id: str, *, conf: dict[str, Any] | None = None, dags_folder: str | None = None
) -> Any:
    """The dry-run result of one send task: a preview dict, or a list of them for a bulk send."""
    from airflow_provider_messaging.operators.base import MessagingSendOperator

    dag = _load_dag(dag_id, dags_folder)
    if task_id not in dag.task_dict:
        raise PreviewError(f"DAG {dag_id!r} has no task {task_id!r} (tasks: {', '.join(sorted(dag.task_dict))})")
    task = dag.task_dict[task_id]
    if not isinstance(task, MessagingSendOperator):
        kind = (
            "a mapped task (preview one of its expansions as a plain task)"
            if hasattr(task, "expand_input")
            else type(task).__name__
        )
        raise PreviewError(f"{dag_id}.{task_id} is {kind}, not a send operator of this provider")
    task = copy.copy(task)  # rendering replaces attributes: keep the parsed DAG as it was
    now = datetime.now(timezone.utc)
    run_id = f"preview__{now.isoformat()}"
    ti = SimpleNamespace(
        dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=-1, try_number=1, xcom_push=lambda **_: None
    )
    dag_run = SimpleNamespace(dag_id=dag_id, run_id=run_id, conf=conf or {}, logical_date=now, run_type="manual")
    params = {key: dag.params[key] for key in dag.params}
    context: dict[str, Any] = {
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "run_id": run_id,
        "params": {**params, **(conf or {})} if getattr(dag, "render_template_as_native_obj", False) else params,
        "logical_date": now,
        "ds": now.date().isoformat(),
        "ts": now.isoformat(),
        "var": {},
    }
    task.render_template_fields(context)  # type: ignore[arg-type]
    task.dry_run_only = True
    return task.dry_run_result(context)  # type: ignore[arg-type]
