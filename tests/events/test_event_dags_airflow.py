"""Event-driven DAG runs from customer replies, with a REAL ``airflow triggerer`` and ``airflow scheduler``.

What runs: a fresh AIRFLOW_HOME (SQLite metadata, LocalExecutor, parallelism 2) holding only
``tests/dags/ev_inbound.py``; ``airflow dags reserialize`` stores the DAG and creates the asset
watcher's Trigger row (what the dag-processor does); then ``airflow triggerer`` and ``airflow
scheduler`` run as subprocesses. Inbound messages go sandbox -> receiver -> message store
(``local_stack.inject_inbound``); the triggerer's InboundMessageEventTrigger claims them, Airflow turns
each event into an AssetEvent and the scheduler into an asset-triggered DAG run whose task runs on the
LocalExecutor. The triggerer is then stopped (SIGTERM) and started again. Everything is bounded in
time and every process is stopped by its own pid.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port
from tests.support.store_helpers import watcher_cursor
from tests.support.waiting import wait_for

DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "ev_inbound.py"
DAG_ID = "ev_on_yes_reply"
WATCHER = "ev_yes_replies"
AIRFLOW = [sys.executable, "-m", "airflow"]


class Airflow:
    """A throwaway Airflow installation and its component processes."""

    def __init__(self, home: Path, store_url: str, run_log: Path):
        self.home = home
        dags = home / "dags"
        dags.mkdir(parents=True)
        shutil.copy(DAG_FILE, dags / DAG_FILE.name)
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__MESSAGING__STORE_URL": store_url,
            "EV_RUN_LOG": str(run_log),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        # LocalExecutor workers reach the task runtime through the API server's execution API
        self.api_port = free_port()
        self.env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{self.api_port}/execution/"
        self.env["AIRFLOW__API_AUTH__JWT_SECRET"] = secrets.token_urlsafe(32)

    def cli(self, *args: str, timeout: float = 180) -> None:
        result = subprocess.run([*AIRFLOW, *args], env=self.env, capture_output=True, timeout=timeout)
        assert result.returncode == 0, result.stderr.decode()[-3000:]

    def start(self, component: str) -> None:
        log = open(self.home / f"{component}.log", "ab")  # noqa: SIM115 - closed with the process
        args = ["api-server", "-H", "127.0.0.1", "-p", str(self.api_port)] if component == "api-server" else [component]
        self.procs[component] = subprocess.Popen(
            [*AIRFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, component: str, timeout: float = 30) -> None:
        proc = self.procs.pop(component, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # the component and the workers it started, by its own group id
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for component in list(self.procs):
            self.stop(component)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "airflow.db", timeout=10) as db:
            return db.execute(sql, params).fetchall()

    def asset_events(self) -> list[dict[str, Any]]:
        return [json.loads(extra) for (extra,) in self.query("SELECT extra FROM asset_event ORDER BY id")]

    def runs(self) -> list[tuple[str, str]]:
        return [
            (run_id, state)
            for run_id, state in self.query(
                "SELECT run_id, state FROM dag_run WHERE dag_id = ? AND run_type = 'asset_triggered' ORDER BY id",
                DAG_ID,
            )
        ]

    def events_of_runs(self) -> list[list[int]]:
        """Inbound ids of the asset events each asset-triggered run consumed."""
        rows = self.query(
            "SELECT r.id, e.extra FROM dag_run r JOIN dagrun_asset_event d ON d.dag_run_id = r.id "
            "JOIN asset_event e ON e.id = d.event_id WHERE r.dag_id = ? ORDER BY r.id, e.id",
            DAG_ID,
        )
        runs: dict[int, list[int]] = {}
        for run, extra in rows:
            runs.setdefault(run, []).append(json.loads(extra)["payload"]["inbound_id"])
        return list(runs.values())

    def watchers(self) -> list[tuple[str, int]]:
        """(name, trigger id) of each asset watcher. Airflow 3.1 keeps no watcher name (its ``asset_trigger``
        table only links assets and triggers); this test's DAG has one watcher, so the name is implied."""
        from airflow_provider_messaging import compat

        if compat.at_least(3, 2):
            return [(name, trigger) for name, trigger in self.query("SELECT name, trigger_id FROM asset_watcher")]
        return [(WATCHER, trigger) for (trigger,) in self.query("SELECT trigger_id FROM asset_trigger")]

    def watcher_triggerer(self) -> int | None:
        triggers = [trigger for name, trigger in self.watchers() if name == WATCHER]
        rows = self.query("SELECT triggerer_id FROM trigger WHERE id = ?", triggers[0]) if triggers else []
        return rows[0][0] if rows else None


@pytest.fixture
def airflow(tmp_path: Path, sqlite_store: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Airflow]:
    instance = Airflow(tmp_path / "home", sqlite_store.url, tmp_path / "runs.jsonl")
    try:
        yield instance
    finally:
        instance.stop_all()


@pytest.fixture
def stack(sqlite_store: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from airflow_provider_messaging import config
    from airflow_provider_messaging.localstack import LocalStack

    local = LocalStack(sqlite_store).start()
    config.reset_stores()
    try:
        yield local
    finally:
        local.stop()
        config.reset_stores()


@pytest.mark.timeout(420)
def test_one_run_per_matching_reply_and_none_after_a_triggerer_restart(airflow: Airflow, stack: Any, tmp_path: Path):
    store = stack.store
    airflow.cli("db", "migrate")
    airflow.cli("dags", "reserialize")
    assert [name for name, _trigger in airflow.watchers()] == [WATCHER]
    airflow.start("api-server")
    airflow.start("triggerer")
    airflow.start("scheduler")
    # the watcher's first poll creates its cursor ("latest": only messages stored from now on)
    wait_for(lambda: watcher_cursor(store, WATCHER), 120, "the triggerer to start the watcher", interval=0.5)

    def reply(text: str, vendor: str = "aerialink", channel: str = "rcs", phone: str = "15559876541") -> int:
        """Inject an inbound message through sandbox -> receiver; return its id once it is stored."""
        before = store.count("inbound")
        stack.inject_inbound(vendor=vendor, channel=channel, phone_number=phone, text=text)
        wait_for(lambda: store.count("inbound") == before + 1, 20, "the receiver to store the reply", interval=0.5)
        return max(r.id for r in store.find_inbound(vendor=vendor))

    def polled_past(marker: int) -> None:
        """Wait for a poll of the watcher that moves its cursor past ``marker`` (a non-matching reply)."""
        wait_for(
            lambda: watcher_cursor(store, WATCHER)["last_inbound_id"] >= marker,
            60,
            f"a poll past {marker}",
            interval=0.2,
        )

    def fired_for() -> list[int]:
        """Inbound ids of the asset events, in the order the triggerer stored them."""
        return [e["payload"]["inbound_id"] for e in airflow.asset_events()]

    # non-matching: other vendor, other channel, other text
    reply("yes", vendor="telesign")
    reply("yes", channel="sms")
    reply("no thanks")
    # matching, one at a time: each must start its own run
    reply("Yes please")
    wait_for(lambda: len(airflow.runs()) == 1, 90, "the first asset-triggered run", interval=0.5)
    reply("YES")
    wait_for(lambda: len(airflow.runs()) == 2, 90, "the second asset-triggered run", interval=0.5)

    matching = [
        r.id for r in store.find_inbound(vendor="aerialink") if r.channel == "rcs" and r.text.lower().startswith("yes")
    ]
    assert len(matching) == 2
    assert [e["payload"]["inbound_id"] for e in airflow.asset_events()] == matching
    assert airflow.events_of_runs() == [[matching[0]], [matching[1]]]
    wait_for(
        lambda: all(state == "success" for _, state in airflow.runs()), 120, "the runs' tasks to finish", interval=0.5
    )
    # the two runs may finish in either order; each saw exactly its own reply
    assert sorted(json.loads(line)["inbound_ids"] for line in (tmp_path / "runs.jsonl").read_text().splitlines()) == [
        [matching[0]],
        [matching[1]],
    ]

    # restart the triggerer: the restarted watcher must not fire again for the claimed replies
    first_job = airflow.watcher_triggerer()
    airflow.stop("triggerer")
    airflow.start("triggerer")
    wait_for(
        lambda: airflow.watcher_triggerer() not in (None, first_job),
        120,
        "the restarted triggerer to take the watcher",
        interval=0.5,
    )
    # three polls of the restarted watcher, each moving its cursor past one new non-matching reply, fire nothing
    for _ in range(3):
        polled_past(reply("no thanks"))
    assert fired_for() == matching
    assert len(airflow.runs()) == 2

    # ... and it still fires for a new reply, once
    new = reply("yes")
    wait_for(lambda: len(airflow.runs()) == 3, 90, "a run for the reply after the restart", interval=0.5)
    # a sentinel reply: the triggerer stores one trigger's events in order, so once the sentinel's event is
    # stored, any second event for `new` (or a late one for the claimed replies) would be stored before it
    sentinel = reply("yes, sentinel")
    wait_for(lambda: sentinel in fired_for(), 90, "the sentinel's asset event", interval=0.5)
    assert fired_for() == [*matching, new, sentinel]
    wait_for(lambda: len(airflow.runs()) == 4, 90, "the sentinel's run", interval=0.5)
    assert len(airflow.runs()) == 4
    assert watcher_cursor(store, WATCHER)["events"] == 4
