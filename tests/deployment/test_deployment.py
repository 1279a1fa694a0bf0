"""Every README promise on a real Airflow 3 deployment, with the package installed from its wheel.

One deployment for the module (tests/deployment/conftest.py): ``airflow api-server``, ``scheduler``,
``dag-processor`` and ``triggerer`` (LocalExecutor, SQLite), the shipped example DAGs in the DAGs folder,
and ``airflow-messaging sandbox`` configured with its own ``--print-env`` output, posting callbacks to the
receiver mounted in the API server under ``/messaging``. Through Airflow's REST API every example DAG is
unpaused and triggered manually. The sandbox holds its callbacks back until every delivery sensor is
``deferred`` (so the waits are seen in the triggerer, never raced), then releases them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from airflow_provider_messaging.demo import EXPECTED
from airflow_provider_messaging.store import MessageStore
from tests.support.deployment import Deployment
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(600)
TERMINAL = {"success", "failed"}
SENSOR_CLASSES = {"MessageDeliverySensor", "InboundMessageSensor"}
# tests/deployment/dags: a marketing send whose window (in the recipient's zone) opens a while after the run
POLICY_DAG = "deploy_policy_window"
POLICY_PHONE = "12025550101"  # America/New_York; the sandbox delivers it (last digit 1)
POLICY_WAIT = timedelta(seconds=60)  # long enough for the task to start (and defer) before the window opens


@dataclass
class Runs:
    """What the module's scenario did: one manual run per example DAG and what was seen while waiting."""

    deployment: Deployment
    run_ids: dict[str, str]
    sensors: set[tuple[str, str, int]]  # (dag_id, task_id, map_index) of every delivery sensor
    window_opens: datetime  # when the policy DAG's window opened
    seen: dict[tuple[str, str, int], set[str]] = field(default_factory=dict)

    def task_instances(self, dag_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{self.run_ids[dag_id]}/taskInstances"
        return list(self.deployment.api("GET", path)["task_instances"])

    def observe(self) -> dict[tuple[str, str, int], str | None]:
        states = {}
        for dag_id in self.run_ids:
            for ti in self.task_instances(dag_id):
                key = (dag_id, ti["task_id"], ti["map_index"])
                states[key] = ti["state"]
                self.seen.setdefault(key, set()).add(str(ti["state"]))
        return states

    def deferrals_processed(self) -> bool:
        log = (self.deployment.logs / "scheduler.log").read_text(errors="replace")
        return all(
            re.search(
                rf"TaskInstance Finished: dag_id={dag_id}, task_id={task_id}, run_id={re.escape(self.run_ids[dag_id])},"
                r"[^\n]* state=deferred,[^\n]* executor_state=success",
                log,
            )
            for dag_id, task_id, _ in self.sensors
        )

    def log(self, dag_id: str, ti: dict[str, Any]) -> str:
        path = f"/dags/{dag_id}/dagRuns/{self.run_ids[dag_id]}/taskInstances/{ti['task_id']}/logs/{ti['try_number']}"
        body = self.deployment.api(
            "GET",
            path,
            params={"full_content": "true", "map_index": ti["map_index"]},
            headers={"Accept": "application/json"},
        )
        return json.dumps(body["content"])


@pytest.fixture(scope="module")
def runs(deployment: Deployment) -> Runs:
    dags = {d["dag_id"]: d for d in deployment.api("GET", "/dags", params={"limit": 100})["dags"]}
    assert set(dags) == {*EXPECTED, POLICY_DAG}, "the DAGs folder holds the shipped examples and the policy DAG"
    assert all(d["is_paused"] for d in dags.values()), "examples start paused"
    sensors = set()
    for dag_id in EXPECTED:
        for task in deployment.api("GET", f"/dags/{dag_id}/tasks")["tasks"]:
            if task["operator_name"] in SENSOR_CLASSES or task["class_ref"]["class_name"] in SENSOR_CLASSES:
                sensors.add((dag_id, task["task_id"], -1))
    assert len(sensors) >= len(EXPECTED)

    deployment.sandbox("POST", "/callbacks/hold")
    run_ids = {}
    # first: its window opens POLICY_WAIT after now, in the recipient's zone (HH:MM:SS, a 2-hour window)
    opens = datetime.now(ZoneInfo("America/New_York")).replace(microsecond=0) + POLICY_WAIT
    window = f"{opens:%H:%M:%S}-{opens + timedelta(hours=2):%H:%M:%S}"
    deployment.api("PATCH", f"/dags/{POLICY_DAG}", json={"is_paused": False})
    conf = {"phone": POLICY_PHONE, "window": window}
    run_ids[POLICY_DAG] = deployment.api(
        "POST", f"/dags/{POLICY_DAG}/dagRuns", json={"logical_date": None, "conf": conf}
    )["dag_run_id"]
    for dag_id in EXPECTED:
        deployment.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        run = deployment.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
        run_ids[dag_id] = run["dag_run_id"]
    result = Runs(deployment, run_ids, sensors, opens.astimezone(timezone.utc))

    def all_sensors_deferred() -> bool:
        states = result.observe()
        finished = {k: s for k, s in states.items() if k[0] in run_ids and s in ("failed", "upstream_failed")}
        assert not finished, f"tasks failed before any callback: {finished}\n{deployment.log_tails()}"
        return all(states.get(s) == "deferred" for s in sensors)

    wait_for(all_sensors_deferred, 240, "every delivery sensor to be deferred", interval=1)
    # Airflow 3.3.2 fails a deferred task whose trigger fires before the scheduler has processed the
    # executor's "success" of the worker that deferred it (apache/airflow#67287, #72716): release the
    # callbacks once the scheduler has seen every deferral through.
    wait_for(lambda: result.deferrals_processed(), 120, "the scheduler to process every deferral", interval=1)
    deployment.sandbox("POST", "/callbacks/release")

    def all_runs_finished() -> bool:
        result.observe()
        states = [deployment.api("GET", f"/dags/{d}/dagRuns/{r}")["state"] for d, r in run_ids.items()]
        return all(s in TERMINAL for s in states)

    wait_for(all_runs_finished, 240, "every run to finish", interval=1)
    result.observe()
    return result


def test_each_manual_run_ends_as_its_sandbox_scenario_says(runs: Runs) -> None:
    deployment = runs.deployment
    store = MessageStore(deployment.env["AIRFLOW__MESSAGING__STORE_URL"])
    try:
        for dag_id, expected in EXPECTED.items():
            dag_runs = deployment.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
            # unpausing created no run of its own: the only run is the manual one (the scheduler has long
            # had its chance to create a scheduled one while the runs went on)
            assert [(r["dag_run_id"], r["run_type"]) for r in dag_runs] == [(runs.run_ids[dag_id], "manual")]
            assert dag_runs[0]["state"] == expected.dag_state, dag_id
            messages = store.list_messages(dag_id=dag_id, limit=1000)
            got = Counter((m.state.value, m.delivered_channel) for m in messages)
            assert got == Counter(expected.outcomes), dag_id
    finally:
        store.dispose()


def test_every_delivery_sensor_waited_deferred_and_the_triggerer_completed_it(runs: Runs) -> None:
    for key in runs.sensors:
        assert "deferred" in runs.seen[key], f"{key} never deferred: {runs.seen[key]}"
    finals = {key: next(iter(runs.seen[key] & {"success", "skipped", "failed"}), None) for key in runs.sensors}
    assert finals[("example_aerialink_rcs_carousel", "wait_for_delivery", -1)] == "skipped"  # soft_fail
    assert all(state == "success" for key, state in finals.items() if key[0] != "example_aerialink_rcs_carousel")
    # each sensor's log (worker and triggerer parts, as Airflow serves it): deferred by the worker, the
    # trigger fired in the triggerer, and the task resumed from its event
    for dag_id, task_id, _ in runs.sensors:
        (ti,) = [t for t in runs.task_instances(dag_id) if t["task_id"] == task_id]
        log = runs.log(dag_id, ti)
        assert "Pausing task as DEFERRED" in log, log[-3000:]
        assert "Trigger fired event" in log and "trigger completed" in log, log[-3000:]
        resumed = "Delivery complete" in log or "Skipping" in log or "skipped" in log.lower()
        assert resumed, log[-3000:]


def test_task_logs_have_no_error_line_and_no_secret(runs: Runs) -> None:
    secrets = runs.deployment.secrets.values()
    for dag_id in runs.run_ids:
        for ti in runs.task_instances(dag_id):
            text = runs.log(dag_id, ti)
            where = f"{dag_id}.{ti['task_id']}[{ti['map_index']}]"
            entries = json.loads(text)
            errors = [
                e for e in entries if isinstance(e, dict) and str(e.get("level", "")).lower() in ("error", "critical")
            ]
            assert not errors, f"{where}: {errors}"
            assert not re.search(r"\bERROR\b|\[error", text), f"{where}: {text[-3000:]}"
            for secret in secrets:
                assert secret not in text, f"{where} shows a secret"


def test_process_logs_have_no_error_line_and_no_secret(runs: Runs) -> None:
    """The components' own output: the scheduler's holds what LocalExecutor workers log outside the task log
    (Airflow's client logged ``XCom not found`` there when a sensor read a mapped task's XCom past its end)."""
    secrets = runs.deployment.secrets.values()
    for path in sorted(runs.deployment.logs.glob("*.log")):
        text = path.read_text(errors="replace")
        errors = [line for line in text.splitlines() if re.search(r"\[(error|critical)\s*\]|\bERROR\b|Traceback", line)]
        assert not errors, f"{path.name}:\n" + "\n".join(errors[:10])
        for secret in secrets:
            assert secret not in text, f"{path.name} shows a secret"


def test_messages_api_answers_only_an_airflow_login(runs: Runs) -> None:
    url = f"{runs.deployment.url}/messaging/ui/api/messages"
    anonymous = requests.get(url, timeout=30)
    assert anonymous.status_code == 401
    assert "message_id" not in anonymous.text
    authorized = requests.get(url, headers={"Authorization": f"Bearer {runs.deployment.token()}"}, timeout=30)
    assert authorized.status_code == 200
    assert {m["dag_id"] for m in authorized.json()["messages"]} == {*EXPECTED, POLICY_DAG}
    with_callback_token = requests.get(url, params={"token": runs.deployment.secrets.callback_token}, timeout=30)
    assert with_callback_token.status_code == 401


def test_cli_json_of_the_installed_package_parses(runs: Runs) -> None:
    deployment = runs.deployment
    store = MessageStore(deployment.env["AIRFLOW__MESSAGING__STORE_URL"])
    try:
        (message,) = store.list_messages(dag_id="example_telesign_rcs_call_button")
    finally:
        store.dispose()
    status = deployment.run("airflow-messaging", "status", message.message_id, "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert (data["state"], data["delivered_channel"]) == ("DELIVERED", "sms")
    report = deployment.run("airflow-messaging", "report", "--since", "1h", "--json")
    assert report.returncode == 0, report.stderr
    assert (
        json.loads(report.stdout)["sent"] == sum(len(e.outcomes) for e in EXPECTED.values()) + 1
    )  # + the policy DAG's


def test_workarounds_for_the_connection_test_button_of_airflow_3_3_2(deployment: Deployment) -> None:
    """The list's *Test* button sends the stored connection without its password and with ``port: 0``;
    for a connection stored without a port Airflow 3.3.2 answers 400 ("The host or port to test differs
    from the stored connection", apache/airflow#73298). The README's workarounds, checked here."""
    env_conn = json.loads(deployment.env["AIRFLOW_CONN_TELESIGN_DEFAULT"])
    fields = {"conn_type": "telesign", "host": env_conn["host"], "login": env_conn["login"]}
    for conn_id, port in (("telesign_no_port", None), ("telesign_with_port", deployment.sandbox_port)):
        stored = {"connection_id": conn_id, **fields, "password": env_conn["password"], "port": port}
        deployment.api("POST", "/connections", json=stored)

    # 1. a port on the connection: the button's request (no password, the stored port) then passes
    button = {"connection_id": "telesign_with_port", **fields, "port": deployment.sandbox_port}
    assert deployment.api("POST", "/connections/test", json=button)["status"] is True
    # 2. the REST call without a port (what the README shows)
    rest = {"connection_id": "telesign_no_port", "conn_type": "telesign", "host": env_conn["host"]}
    assert deployment.api("POST", "/connections/test", json=rest)["status"] is True
    # 3. the command line, for stored and environment-variable connections alike
    for conn_id in ("telesign_no_port", "aerialink_default"):
        cli = deployment.run("airflow", "connections", "test", conn_id)
        assert cli.returncode == 0 and "Connection success!" in cli.stdout, cli.stdout + cli.stderr


def test_a_marketing_send_outside_its_window_deferred_in_the_triggerer_then_sent(runs: Runs) -> None:
    """The sending policy's window deferral against the real triggerer: the task deferred (no worker slot
    held), the DateTimeTrigger fired when the recipient's window opened, and the send went out then, once."""
    deployment = runs.deployment
    (ti,) = runs.task_instances(POLICY_DAG)
    assert (ti["task_id"], ti["state"], ti["try_number"]) == ("promo", "success", 1)  # resumed, not retried
    log = runs.log(POLICY_DAG, ti)
    assert "window" in log and "deferring until" in log, log[-3000:]
    assert "Pausing task as DEFERRED" in log and "Trigger fired event" in log, log[-3000:]
    store = MessageStore(deployment.env["AIRFLOW__MESSAGING__STORE_URL"])
    try:
        (message,) = store.list_messages(dag_id=POLICY_DAG)
    finally:
        store.dispose()
    assert message.send_status == "ACCEPTED" and message.recipient == POLICY_PHONE
    assert message.created_at is not None and message.created_at >= runs.window_opens  # reserved once open
