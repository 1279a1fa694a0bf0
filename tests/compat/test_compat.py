"""compat.py on the Airflow of the main suite (3.3): every name resolves, from its non-deprecated home."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from airflow_provider_messaging import compat


def test_every_name_resolves_without_deprecation_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in compat.__all__:
            assert getattr(compat, name) is not None, name
    # a deprecated Airflow path warns at the line that used it, i.e. in compat.py
    ours = [str(w.message) for w in caught if w.filename == compat.__file__]
    assert ours == []
    assert compat.AirflowFailException.__module__ == "airflow.sdk.exceptions"
    from airflow.sdk import BaseOperator

    assert compat.BaseOperator is BaseOperator


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        _ = compat.NoSuchThing  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("version", "ok"), [((3, 0, 6), False), ((2, 10, 5), False), ((3, 1, 0), True), ((3, 3, 2), True)]
)
def test_older_airflow_is_refused_with_a_clear_message(version: tuple[int, int, int], ok: bool) -> None:
    if ok:
        compat.check_supported(version)
        return
    found = ".".join(map(str, version))
    with pytest.raises(ImportError, match=rf"needs Airflow 3\.1 or newer; this is Airflow {found}"):
        compat.check_supported(version)


def test_features_of_newer_airflow() -> None:
    assert compat.supports("declarative_connection_fields") is compat.at_least(3, 2)
    with pytest.raises(KeyError):
        compat.supports("no_such_feature")


def test_importing_compat_loads_no_airflow() -> None:
    """The standalone receiver and the CLI import it; Airflow loads only when a name is used."""
    code = "import sys, airflow_provider_messaging.compat; print('airflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_dag_file_on_airflow_3_0_fails_to_parse_with_the_reason(tmp_path: Path) -> None:
    """The package's first import checks the installed Airflow: a 3.0 distribution found first on the path
    (as after ``pip install --no-deps`` into a 3.0 environment) makes every module import fail clearly."""
    dist = tmp_path / "apache_airflow_core-3.0.6.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: apache-airflow-core\nVersion: 3.0.6\n")
    code = "import airflow_provider_messaging.operators.telesign"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "ImportError: airflow-provider-messaging needs Airflow 3.1 or newer; this is Airflow 3.0.6"
    )


def test_only_compat_imports_airflow() -> None:
    """Names that move between Airflow minors are resolved in compat.py only: no other module of the
    package imports from Airflow (docstrings and comments aside), so a new import cannot bypass it."""
    import ast

    package = Path(compat.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            if any(module == "airflow" or module.startswith("airflow.") for module in modules):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert offenders == [], "import these through airflow_provider_messaging.compat"
