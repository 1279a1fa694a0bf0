"""Every example DAG imports cleanly through Airflow's DagBag (no runs: ``airflow-messaging demo`` runs them)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"
FILES = sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.fixture(scope="module")
def bag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLES))


def test_there_are_examples() -> None:
    assert len(FILES) >= 8


def test_no_import_errors(bag) -> None:  # type: ignore[no-untyped-def]
    assert bag.import_errors == {}


@pytest.mark.parametrize("filename", FILES)
def test_example_file(bag, filename: str) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk import BaseSensorOperator

    dags = [dag for dag in bag.dags.values() if Path(dag.fileloc).name == filename]
    assert dags, f"{filename} defines no DAG"
    for dag in dags:
        assert dag.dag_id == Path(filename).stem, "one DAG per file, named after it"
        assert dag.tasks, f"{dag.dag_id} has no tasks"
        assert "example" in dag.tags
        # unpausing an example sends nothing: it runs when triggered, and it starts paused
        assert dag.timetable.can_be_scheduled is False, f"{dag.dag_id} has a schedule"
        assert dag.is_paused_upon_creation is True
        for task in dag.tasks:
            if isinstance(task, BaseSensorOperator):
                timeout = task.timeout.total_seconds() if isinstance(task.timeout, timedelta) else task.timeout
                assert 0 < timeout <= 3600, f"{dag.dag_id}.{task.task_id}: sensor timeout {timeout!r}"
                assert getattr(task, "deferrable", None) is True, f"{dag.dag_id}.{task.task_id} does not defer"


def test_no_example_uses_a_logical_date_only_template() -> None:
    """Manual runs have no logical date in Airflow 3: ``{{ ds }}`` and friends are undefined there."""
    import re

    undefined_in_manual_runs = {"ds", "ds_nodash", "ts", "ts_nodash", "logical_date", "data_interval_start"}
    for path in EXAMPLES.glob("*.py"):
        code = re.sub(r'""".*?"""', "", path.read_text(), flags=re.S)  # docstrings may mention them
        for expression in re.findall(r"\{\{(.*?)\}\}", code):
            variables = re.sub(r"\|\s*\w+|\.\s*\w+", "", expression)  # drop filters and attributes
            used = set(re.findall(r"\w+", variables)) & undefined_in_manual_runs
            assert not used, f"{path.name}: {{{{{expression}}}}} uses {used}, undefined in a manual run"
