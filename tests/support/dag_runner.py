"""Run the DAGs of tests/dags with ``dag.test()`` (tasks, retries and callbacks in this process) and read
back the run: task states, try numbers, XComs.

Two ways to get a DAG: :func:`load_dag` parses a file once per session with Airflow's DagBag (fast, shared);
:func:`load_dags` imports the file afresh each time, for DAGs whose templates ``dag.test()`` renders onto the
task objects in place (a reused DAG object would carry one run's rendered values into the next).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

DAGS = Path(__file__).resolve().parent.parent / "dags"


def load_dags(filename: str) -> Any:
    """The module of ``tests/dags/<filename>``, freshly imported (its DAGs are its attributes)."""
    spec = importlib.util.spec_from_file_location(f"test_dags_{Path(filename).stem}", DAGS / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def load_dag(dag_id: str, filename: str) -> Any:
    """The DAG ``dag_id`` of ``tests/dags/<filename>``, parsed once per test session by Airflow's DagBag."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / filename))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not in {filename}"
    return dag


def run_dag(dag_id: str, filename: str, **conf: Any) -> Any:
    """One real run of a :func:`load_dag` DAG; the DagRun."""
    return load_dag(dag_id, filename).test(run_conf=conf or None)


def ti_of(dag_run: Any, task_id: str, map_index: int = -1) -> Any:
    ti = dag_run.get_task_instance(task_id, map_index=map_index)
    assert ti is not None, f"no task instance {task_id}[{map_index}]"
    return ti


def states(dag_run: Any) -> dict[str, tuple[str | None, int]]:
    """``{task_id or task_id[i]: (state, try_number)}`` of a run."""
    result = {}
    for ti in dag_run.get_task_instances():
        name = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        result[name] = (None if ti.state is None else str(ti.state), ti.try_number)
    return result


def xcom(dag_run: Any, task_id: str, *, key: str = "return_value", map_index: int | None = None) -> Any:
    ti = ti_of(dag_run, task_id, -1 if map_index is None else map_index)
    if map_index is None:
        return ti.xcom_pull(task_ids=task_id, key=key)
    return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=map_index)


class Run:
    """One ``dag.test()`` of a DAG object (e.g. from :func:`load_dags`): run state, task states, XCom values."""

    def __init__(self, dag: Any, run_conf: dict[str, Any] | None = None):
        self.dagrun = dag.test(run_conf=run_conf or {})
        self.state = str(getattr(self.dagrun.state, "value", self.dagrun.state))

    def task_states(self) -> dict[str, str]:
        return {name: str(state) for name, (state, _) in states(self.dagrun).items()}

    def xcom(self, task_id: str) -> Any:
        """The ``return_value`` of ``task_id``: one value, or the list of a mapped task's values by map index."""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            rows = session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == self.dagrun.dag_id,
                    XComModel.run_id == self.dagrun.run_id,
                    XComModel.task_id == task_id,
                    XComModel.key == "return_value",
                )
            ).all()
            values = [XComModel.deserialize_value(row) for row in sorted(rows, key=lambda r: r.map_index)]
        return values[0] if len(values) == 1 else values
