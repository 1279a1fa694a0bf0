"""Compatibility smoke test: what the provider does on one installed Airflow minor.

Not part of the main suite (the file name does not match ``test_*.py``); ``scripts/compat-smoke.sh``
runs it in one virtualenv per supported minor, built from ``constraints/airflow-X.Y.txt`` with the
provider installed from its wheel:

    MESSAGING_COMPAT_RESULTS=out.json pytest --noconftest -p no:cacheprovider tests/compat/smoke_airflow.py

Every test proves one feature (``FEATURES``) and records it in the results file only when its last
assertion passed; ``scripts/compat_table.py`` renders the README's compatibility table from those
files, so each cell of the table is a passing test on that Airflow version. A feature that needs a
newer Airflow is recorded as ``unsupported`` by a test that asserts how it degrades there.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import secrets
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Airflow reads its configuration when first imported: give this run its own home before that.
_HOME = Path(tempfile.mkdtemp(prefix="messaging-compat-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
os.environ["AIRFLOW__MESSAGING__STORE_URL"] = f"sqlite:///{_HOME / 'messaging.db'}"
os.environ["AIRFLOW__API_AUTH__JWT_SECRET"] = secrets.token_urlsafe(32)  # the API server refuses to start without

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "example_dags"
PACKAGE = "airflow_provider_messaging"
#: The two example DAGs run end to end (one per vendor, each a send and a deferrable delivery sensor).
END_TO_END = ("example_telesign_rcs_link_button", "example_aerialink_rcs_text")

#: feature id -> what the README's table calls it.
FEATURES: dict[str, str] = {
    "install_import": "Installs from the wheel; every module imports without a DeprecationWarning of ours",
    "provider_registered": "Provider registered: connection types, hooks, `[messaging]` config",
    "example_dags_parse": "`example_dags/` parse in a DagBag without import errors",
    "send_and_wait": "Send + deferrable delivery sensor end to end against the sandbox (Telesign, Aerialink)",
    "plugin_mounted": "Callback receiver and Messages view mounted in Airflow's API server",
    "reply_driven_dags": "Reply-driven DAGs: AssetWatcher + `InboundMessageEventTrigger` parse, serialize and fire",
    "reply_driven_scheduled": "Reply-driven DAG runs by a real scheduler + triggerer, one per reply across a triggerer restart",
    "connection_form_fields": "Connection form extras (timeouts, retries, rate limit, default sender) in the UI",
}

_results: dict[str, str] = {}


def _record(feature: str, outcome: str = "pass") -> None:
    assert feature in FEATURES, feature
    _results[feature] = outcome


@pytest.fixture(scope="session", autouse=True)
def results_file() -> Iterator[None]:
    """Write what passed on this Airflow (every feature not recorded is ``fail``)."""
    yield
    path = os.environ.get("MESSAGING_COMPAT_RESULTS")
    if not path:
        return
    from airflow_provider_messaging import compat

    report = {
        "airflow": ".".join(map(str, compat.airflow_version())),
        "python": sys.version.split()[0],
        "features": {feature: _results.get(feature, "fail") for feature in FEATURES},
        "labels": FEATURES,
    }
    Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def migrated_home() -> Path:
    """The run's Airflow metadata database, created by Airflow's own CLI."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return _HOME


def _our_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    root = str(Path(importlib.import_module(PACKAGE).__file__ or "").parent)
    return [
        f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}"
        for w in caught
        if issubclass(w.category, DeprecationWarning) and w.filename.startswith(root)
    ]


def test_every_module_imports() -> None:
    package = importlib.import_module(PACKAGE)
    source = Path(package.__file__ or "").resolve()
    assert not source.is_relative_to(REPO), f"imported the checkout, not the installed wheel: {source}"
    names = [
        info.name
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{PACKAGE}.")
        # Alembic scripts are loaded by Alembic only; a __main__ module runs its command when imported
        if ".migrations." not in info.name and not info.name.endswith(".__main__")
    ]
    assert len(names) > 40
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in names:
            importlib.import_module(name)
    assert _our_warnings(caught) == []
    _record("install_import")


def test_compat_resolves_every_name() -> None:
    """Each name of compat.py resolves on this Airflow; the moved ones from their non-deprecated home."""
    from airflow_provider_messaging import compat

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in compat.__all__:
            assert getattr(compat, name) is not None, name
    assert _our_warnings(caught) == []
    expected = "airflow.sdk.exceptions" if compat.at_least(3, 2) else "airflow.exceptions"
    assert compat.AirflowFailException.__module__ == expected


def test_provider_registered() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-messaging" in manager.providers
    hooks = manager.hooks
    assert hooks["telesign"] is not None and hooks["telesign"].hook_class_name.endswith("TelesignHook")
    assert hooks["aerialink"] is not None and hooks["aerialink"].hook_class_name.endswith("AerialinkHook")
    manager.initialize_providers_configuration()
    from airflow.configuration import conf

    assert conf.get("messaging", "telesign_conn_id") == "telesign_default"  # our [messaging] defaults
    _record("provider_registered")


def test_connection_form_fields() -> None:
    """Airflow 3.2+ builds our connection forms from ``conn-fields``; 3.1 ignores them (plain forms)."""
    from airflow.providers_manager import ProvidersManager

    from airflow_provider_messaging import compat

    widgets = ProvidersManager().connection_form_widgets
    ours = {"extra__telesign__timeout", "extra__aerialink__default_source", "extra__aerialink__callback_url"}
    if compat.supports("declarative_connection_fields"):
        assert ours <= set(widgets), sorted(w for w in widgets if "telesign" in w or "aerialink" in w)
        _record("connection_form_fields")
    else:
        assert not ours & set(widgets)  # the extras are still read from the connection's JSON extra
        since = ".".join(map(str, compat.FEATURES_SINCE["declarative_connection_fields"]))
        _record("connection_form_fields", f"unsupported: needs Airflow {since}+; set them in the JSON Extra field")


def test_example_dags_parse(migrated_home: Path) -> None:
    from airflow.models.dagbag import DagBag

    from airflow_provider_messaging.demo import EXPECTED

    bag = DagBag(dag_folder=str(EXAMPLES))  # no Airflow examples: LOAD_EXAMPLES=False
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == set(EXPECTED)
    _record("example_dags_parse")


def test_two_example_dags_end_to_end(migrated_home: Path) -> None:
    """The demo's own runner in a fresh process: sandbox + receiver on free ports, real ``dag.test()`` runs."""
    script = (
        "import sys; from pathlib import Path; from airflow_provider_messaging.demo import run_demo; "
        f"sys.exit(run_demo(examples=Path({str(EXAMPLES)!r}), only={list(END_TO_END)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for dag_id in END_TO_END:
        assert f"{dag_id}: run success" in done.stdout
    assert "Demo OK" in done.stdout
    _record("send_and_wait")


def test_plugin_mounted_in_api_server(migrated_home: Path) -> None:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as client:
        health = client.get("/messaging/health")
        assert health.status_code == 200, health.text
        assert health.json() == {"status": "ok"}
        page = client.get("/messaging/ui/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert client.get("/messaging/ui/api/messages").status_code == 401  # the view checks Airflow's JWT
        unsigned = client.post("/messaging/telesign/status", json={"reference_id": "x"})
        assert unsigned.status_code == 401  # callbacks keep their own authentication
    _record("plugin_mounted")


def test_reply_driven_dag(migrated_home: Path) -> None:
    """A DAG scheduled on an asset watched by our event trigger parses and serializes, and the trigger
    fires for a matching inbound message (the scheduler/triggerer path itself is Airflow's)."""
    import asyncio

    from airflow.models.dagbag import DagBag

    from airflow_provider_messaging import config
    from airflow_provider_messaging.triggers.inbound_events import InboundMessageEventTrigger

    dags = Path(tempfile.mkdtemp(prefix="messaging-compat-dags-"))
    (dags / "on_reply.py").write_text(_REPLY_DAG, encoding="utf-8")
    bag = DagBag(dag_folder=str(dags))
    assert bag.import_errors == {}
    dag = bag.get_dag("compat_on_yes")
    assert dag is not None
    _serialize(dag)

    store = config.get_store()
    trigger = InboundMessageEventTrigger(watcher="compat_yes", text_pattern="^yes", start="earliest")
    store.record_inbound(vendor="aerialink", raw_body="{}", inbound=_inbound("yes please"))

    async def first_event() -> Any:
        events = trigger.run()
        try:
            return await asyncio.wait_for(events.__anext__(), timeout=30)
        finally:
            await events.aclose()

    event = asyncio.run(first_event())
    assert event.payload["status"] == "success" and event.payload["inbound"]["text"] == "yes please"
    _record("reply_driven_dags")


def test_reply_driven_dag_runs_with_real_airflow_processes() -> None:
    """The main suite's event test (api-server, triggerer and scheduler as processes) on this Airflow."""
    test = REPO / "tests" / "events" / "test_event_dags_airflow.py"
    # importlib mode imports the tests package without putting the checkout (and its sources) on sys.path
    pytest_args = ["-q", "-p", "no:cacheprovider", "--rootdir", str(REPO), "--import-mode=importlib", str(test)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=tempfile.mkdtemp(prefix="messaging-compat-events-"),  # not the checkout: the wheel is under test
        env={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},  # its conftest sets its own
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
    _record("reply_driven_scheduled")


def _serialize(dag: Any) -> None:
    """Serialize as the DAG processor does (the serializer class was renamed in Airflow 3.2)."""
    from airflow.serialization import serialized_objects

    from airflow_provider_messaging import compat

    serializer = serialized_objects.DagSerialization if compat.at_least(3, 2) else serialized_objects.SerializedDAG
    data = serializer.to_dict(dag)
    assert data["dag"]["dag_id"] == dag.dag_id


def _inbound(text: str) -> Any:
    from airflow_provider_messaging.store import NewInbound

    return NewInbound(channel="rcs", sender="+15551230000", recipient="CONVEY", text=text, reference_id="compat-1")


_REPLY_DAG = """
import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_messaging.triggers.inbound_events import InboundMessageEventTrigger

replies = Asset(
    "compat_yes_replies",
    watchers=[AssetWatcher(name="compat_yes", trigger=InboundMessageEventTrigger(watcher="compat_yes"))],
)
with DAG("compat_on_yes", schedule=[replies], start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):

    @task
    def handle():
        return 1

    handle()
"""
