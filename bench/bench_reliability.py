"""Reliability under faults and load: no callback lost, no message sent twice, no bad input in.

The scenarios live in ``tests/reliability`` (the quick profile runs in the normal test suite); this
benchmark runs the long profile and reports the figures. Baseline: the same callback traffic with no
receiver kills, measured in the same run.

    .venv/bin/python bench/bench_reliability.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUICK: dict[str, Any] = {"messages": 300, "kills": 3, "outage_messages": 150, "sends": (200, 20, 4, 2), "fuzz": 150}
LONG: dict[str, Any] = {"messages": 2000, "kills": 6, "outage_messages": 600, "sends": (1000, 50, 10, 5), "fuzz": 1000}


def _fuzz(url: str, workdir: Path, examples: int, airflow_db: str | None = None) -> dict[str, Any]:
    """Hypothesis against a receiver process: every class of hostile input, by class, and forged credentials."""
    import requests
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from airflow_provider_messaging.store import MessageStore
    from tests.reliability.fuzz import (
        SLOW_HEADS,
        TIME_FIELDS,
        VALID,
        Tally,
        content_types,
        counts,
        forged_requests,
        hostile_callbacks,
        hostile_heads,
        mutated_callbacks,
        out_of_range_times,
        post,
        raw_bodies,
        raw_request,
        slow_head_closed,
        ui_requests,
    )
    from tests.support.receiver_process import ReceiverProcess, airflow_token

    store = MessageStore(url)
    store.upgrade()
    names = (
        "bodies: random JSON, truncated, deep nesting, binary, huge, content types",
        "fields: wrong types, huge strings, unicode",
        "huge integers (4,301-20,000 digits) and non-finite numbers in any field",
        "out-of-range times in every time field",
        "request heads: non-ASCII credentials, oversized and countless headers",
        "slow request heads (unfinished, then silence)",
        "view API and /report: extreme filter values, odd ids (Airflow token)",
    )
    classes = {name: Tally() for name in names}
    bodies, fields, numbers, times, heads, slow, views = classes.values()
    forged = Tally()
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db} if airflow_db else {}
    with (
        ReceiverProcess(url, workdir, env=env, args=("--header-timeout", "2")) as receiver,
        requests.Session() as session,
    ):
        options = settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)

        def one(tally: Tally, route: str, body: bytes, content_type: str) -> None:
            before = counts(store)
            response = post(session, receiver.url, route, body, content_type)
            tally.record(response, before, counts(store), route)

        @options
        @given(raw_bodies(), content_types)
        def fuzz_bodies(case: tuple[str, bytes], content_type: str) -> None:
            one(bodies, case[0], case[1], content_type)

        @options
        @given(mutated_callbacks())
        def fuzz_fields(case: tuple[str, bytes]) -> None:
            one(fields, case[0], case[1], "application/json")

        @options
        @given(hostile_callbacks())
        def fuzz_numbers(case: tuple[str, bytes]) -> None:
            one(numbers, case[0], case[1], "application/json")

        @options
        @given(st.sampled_from([(r, f) for r, fs in TIME_FIELDS.items() for f in fs]), out_of_range_times())
        def fuzz_times(where: tuple[str, tuple[Any, ...]], stamp: str) -> None:
            route, path = where
            data = json.loads(json.dumps(VALID[route]))
            target = data
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = stamp
            one(times, route, json.dumps(data).encode(), "application/json")

        @settings(max_examples=max(examples // 4, 20), deadline=None, suppress_health_check=list(HealthCheck))
        @given(hostile_heads())
        def fuzz_heads(case: tuple[str, str, list[tuple[bytes, bytes]], bytes]) -> None:
            kind, target, headers, body = case
            before = counts(store)
            heads.record_status(raw_request(receiver.url, "POST", target, headers, body), before, counts(store), kind)

        login = {"Authorization": f"Bearer {airflow_token()}"}

        @options
        @given(ui_requests())
        def fuzz_views(case: tuple[str, dict[str, str]]) -> None:
            before = counts(store)
            response = session.get(receiver.url + case[0], params=case[1], headers=login, timeout=60)
            views.record(response, before, counts(store), case[0])

        fuzz_bodies()
        fuzz_fields()
        fuzz_numbers()
        fuzz_times()
        fuzz_heads()
        for prefix in SLOW_HEADS:  # 0: closed by the receiver; -1: still open after the client's 60 s
            before = counts(store)
            slow.record_status(0 if slow_head_closed(receiver.url, prefix) else -1, before, counts(store), "slow")
        fuzz_views()
        for _name, route, body, headers, params in forged_requests(b" "):
            before = counts(store)
            response = session.post(receiver.url + route, data=body, headers=headers, params=params, timeout=30)
            forged.record(response, before, counts(store), route)
        alive = receiver.alive()
        logs = receiver.log_text()
    store.dispose()
    return {"classes": classes, "forged": forged, "alive": alive, "logs": logs}


def fuzz_section(fuzz: dict[str, Any], leaks: int) -> list[str]:
    """The hostile-input part of the report: one row per class of input."""
    lines = [
        "### Hostile input (PostgreSQL store)",
        "",
        "Receiver = `airflow-messaging receiver --header-timeout 2` as a real process, Hypothesis-generated "
        "requests. Status 0 = the receiver closed the connection without an answer (a request head refused while "
        "it was still arriving, or a slow head timed out).",
        "",
        "| class | requests | answers by status | 5xx | rows written on a reject | stack traces |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, tally in fuzz["classes"].items():
        lines.append(
            f"| {name} | {tally.total} | {dict(sorted(tally.statuses.items()))} | {tally.server_errors} | "
            f"{len(tally.rows_after_reject)} | {len(tally.traces)} |"
        )
    tallies = list(fuzz["classes"].values())
    forged = fuzz["forged"]
    lines += [
        "",
        f"- All classes: {sum(t.total for t in tallies)} requests; 5xx: {sum(t.server_errors for t in tallies)}; "
        f"rows written on a reject: {sum(len(t.rows_after_reject) for t in tallies)}; receiver process alive "
        f"afterwards: {fuzz['alive']}.",
        f"- Forged/replayed-onto-another-body/unauthenticated callbacks: {forged.total}; answers "
        f"{dict(forged.statuses)}; rows written: {len(forged.rows_after_reject)}.",
        f"- Secrets (API keys, callback token, Basic password, JWT secret) found in all logs of this run: {leaks}.",
    ]
    return lines


def fuzz_problems(fuzz: dict[str, Any]) -> list[str]:
    classes, forged = fuzz["classes"], fuzz["forged"]
    bad = [n for n, t in classes.items() if t.server_errors or t.rows_after_reject or t.traces or -1 in t.statuses]
    if bad or not fuzz["alive"] or set(forged.statuses) != {401} or forged.rows_after_reject:
        return [f"hostile input got through: {bad or 'forged / process'}"]
    return []


def _airflow_db(root: Path) -> str:
    """A migrated Airflow metadata database: the view API's token check reads revoked tokens from it."""
    import subprocess

    home = root / "airflow-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=env)
    return f"sqlite:///{home / 'airflow.db'}"


def run_fuzz_only(examples: int) -> str:
    """Only the hostile-input part (``--fuzz-only``): the receiver process on a fresh PostgreSQL."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-reliability-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from tests.support.postgres import PostgresServer
    from tests.support.receiver_process import secrets_found

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        root = Path(tmp)
        airflow_db = _airflow_db(root)
        server = PostgresServer().start()
        try:
            (root / "fuzz").mkdir()
            fuzz = _fuzz(server.create_database("fuzz"), root / "fuzz", examples, airflow_db)
        finally:
            server.destroy()
    leaks = sum(secrets_found(fuzz["logs"]).values())
    problems = fuzz_problems(fuzz) + ([f"secrets in logs: {leaks}"] if leaks else [])
    lines = ["## Reliability: hostile input", "", *fuzz_section(fuzz, leaks)]
    lines += ["", f"**Verdict:** {'all guarantees held' if not problems else 'FAILED: ' + '; '.join(problems)}."]
    lines.append(f"\n_(hostile input {time.monotonic() - started:.0f} s)_")
    return "\n".join(lines) + "\n"


def run(quick: bool = False) -> str:
    """Run the reliability scenarios and return a Markdown section."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-reliability-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from tests.reliability.scenarios import (
        Verdict,
        postgres_outage,
        run_callback_load,
        run_store_outage,
        sqlite_outage,
    )
    from tests.reliability.sends import SEND_API_KEY, SendVerdict, run_duplicate_sends
    from tests.support.postgres import PostgresServer
    from tests.support.receiver_process import secrets_found

    p = QUICK if quick else LONG
    started = time.monotonic()
    loads: list[Verdict] = []
    outages: list[Verdict] = []
    sends: list[SendVerdict] = []
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as tmp:
        root = Path(tmp)
        shared = PostgresServer().start()
        outage_pg = PostgresServer().start()
        try:
            urls = {"SQLite": f"sqlite:///{root / 'load.db'}", "PostgreSQL": shared.create_database("load")}
            baseline = run_callback_load(
                "SQLite, no kills (baseline)",
                f"sqlite:///{root / 'baseline.db'}",
                root / "baseline",
                n_messages=p["messages"],
                kills=0,
            )
            for label, url in urls.items():
                (root / label).mkdir()
                loads.append(run_callback_load(label, url, root / label, n_messages=p["messages"], kills=p["kills"]))
            (root / "out-pg").mkdir()
            outages.append(
                run_store_outage(
                    "PostgreSQL",
                    outage_pg.create_database("outage"),
                    root / "out-pg",
                    lambda receiver: postgres_outage(outage_pg),
                    n_messages=p["outage_messages"],
                )
            )
            (root / "out-sqlite").mkdir()
            outages.append(
                run_store_outage(
                    "SQLite",
                    f"sqlite:///{root / 'outage.db'}",
                    root / "out-sqlite",
                    sqlite_outage,
                    n_messages=p["outage_messages"],
                )
            )
            n_retry, n_injected, n_timeout, n_crash = p["sends"]
            for label, url in (
                ("SQLite", f"sqlite:///{root / 'sends.db'}"),
                ("PostgreSQL", shared.create_database("sends")),
            ):
                (root / f"sends-{label}").mkdir()
                sends.append(
                    run_duplicate_sends(
                        label,
                        url,
                        root / f"sends-{label}",
                        n_retry=n_retry,
                        n_injected=n_injected,
                        n_timeout=n_timeout,
                        n_crash=n_crash,
                    )
                )
            (root / "fuzz").mkdir()
            fuzz = _fuzz(shared.create_database("fuzz"), root / "fuzz", p["fuzz"], _airflow_db(root))
        finally:
            outage_pg.destroy()
            shared.destroy()
    logs = [v.logs for v in (baseline, *loads, *outages)] + [s.logs for s in sends] + [fuzz["logs"]]
    leaks = secrets_found(*logs, extra=(SEND_API_KEY,))

    def rate(v: Verdict) -> float:
        return v.acknowledged / v.seconds if v.seconds else 0.0

    lines = [
        "## Reliability: faults and load",
        "",
        f"Profile: {'quick' if quick else 'long'}. Receiver = `airflow-messaging receiver` as a real process; vendor "
        "client = threads with keep-alive sessions, 20% duplicate callbacks, shuffled, each retried until 2xx. "
        "Baseline = the same traffic on SQLite without kills.",
        "",
        "### Callbacks while the receiver is SIGKILLed and restarted",
        "",
        "| store | messages | callbacks sent | 2xx | kills | lost | wrong state | went backwards | reads | "
        "answers | acked/s (incl. set-up) | vs baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for v in (baseline, *loads):
        answers = ", ".join(f"{k}: {n}" for k, n in sorted(v.statuses.items()))
        lines.append(
            f"| {v.label} | {v.messages} | {v.callbacks_sent} | {v.acknowledged} | {v.kills} | {len(v.lost)} | "
            f"{len(v.wrong_state)} | {len(v.backwards)} | {v.reads} | {answers} | {rate(v):,.0f} | "
            f"{rate(v) / max(rate(baseline), 1e-9):.2f}x |"
        )
    lines += [
        "",
        "### Store outage (database gone mid-run, same receiver process throughout)",
        "",
        "| store | how | outage s | answers while down | all answers | lost | recovered w/o restart |",
        "|---|---|---:|---|---|---:|---|",
    ]
    for v in outages:
        lines.append(
            f"| {v.label} | {v.notes[0] if v.notes else ''} | {v.outage_seconds:.1f} | {dict(v.outage_answers)} | "
            f"{dict(v.statuses)} | {len(v.lost)} | {'yes' if v.recovered and v.receiver_alive else 'NO'} |"
        )
    lines += [
        "",
        "### No duplicate sends (operator send path retried)",
        "",
        "| store | keys | retried after success | exception after HTTP | read timeout | worker SIGKILLed after HTTP | "
        "requests at vendor | duplicates | unknown outcomes reported | not reported |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sends:
        lines.append(
            f"| {s.label} | {s.keys} | {s.by_kind['retry']} | {s.by_kind['injected']} | {s.by_kind['timeout']} | "
            f"{s.worker_kills} | {s.requests} | {len(s.duplicates)} | {s.unknown_reported} | {len(s.unknown_silent)} |"
        )
    lines += ["", *fuzz_section(fuzz, sum(leaks.values()))]
    problems = [f"{v.label}: {pr}" for v in (baseline, *loads, *outages) for pr in v.problems()]
    problems += [f"sends {s.label}: {pr}" for s in sends for pr in s.problems()]
    problems += fuzz_problems(fuzz)
    if leaks:
        problems.append(f"secrets in logs: {leaks}")
    lines += ["", f"**Verdict:** {'all guarantees held' if not problems else 'FAILED: ' + '; '.join(problems)}."]
    lines.append(f"\n_(reliability suite {time.monotonic() - started:.0f} s)_")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fuzz-only", action="store_true", help="only the hostile-input part (issue 15's classes)")
    args = parser.parse_args()
    if args.fuzz_only:
        print(run_fuzz_only((QUICK if args.quick else LONG)["fuzz"]))
    else:
        print(run(quick=args.quick))


if __name__ == "__main__":
    main()
