"""Run a DAG from tests/dags with dag.test() and read back task states and XComs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

DAGS = Path(__file__).resolve().parent.parent / "dags"


def load_dags(filename: str) -> Any:
    """A fresh import each time: dag.test() renders templates onto the task objects in place, so a
    reused DAG object would carry one run's rendered values into the next."""
    spec = importlib.util.spec_from_file_location(f"test_dags_{Path(filename).stem}", DAGS / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Run:
    """The outcome of one dag.test(): run state, task states, XCom return values."""

    def __init__(self, dag: Any, run_conf: dict[str, Any] | None = None):
        self.dagrun = dag.test(run_conf=run_conf or {})
        self.state = str(getattr(self.dagrun.state, "value", self.dagrun.state))

    def task_states(self) -> dict[str, str]:
        states: dict[str, str] = {}
        for ti in self.dagrun.get_task_instances():
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            states[key] = str(getattr(ti.state, "value", ti.state))
        return states

    def xcom(self, task_id: str) -> Any:
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
