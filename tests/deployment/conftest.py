"""Fixtures of the deployment tests: the package built as a wheel and installed into its own virtualenv
(once per test run), and a real Airflow deployment using it (once per module). See support/deployment.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.deployment import Deployment, build_wheel, install_venv, installed_package


@pytest.fixture(scope="session")
def installed_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a virtualenv where pip installed the wheel built from this checkout."""
    work = tmp_path_factory.mktemp("wheel-install")
    wheel = build_wheel(work / "dist")
    return install_venv(wheel, work / "venv")


@pytest.fixture(scope="module")
def deployment(installed_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """api-server, scheduler, dag-processor, triggerer and the sandbox, with the shipped example DAGs
    and the test's own (tests/deployment/dags)."""
    examples = sorted((installed_package(installed_python) / "example_dags").glob("example_*.py"))
    own = sorted((Path(__file__).parent / "dags").glob("deploy_*.py"))  # the deployment test's own DAGs
    instance = Deployment(installed_python, tmp_path_factory.mktemp("deployment"), [*examples, *own])
    try:
        yield instance.start()
    finally:
        instance.stop()
    assert instance.alive_groups() == [], "processes left behind"
    assert instance.escaped == [], "processes that had left their process group"
