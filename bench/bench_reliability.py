"""Reliability under faults and load: no callback lost, no message sent twice, no bad input in.

The scenarios live in ``tests/reliability`` (the quick profile runs in the normal test suite); this
benchmark runs the long profile and reports the figures. Baseline: the same callback traffic with no
receiver kills, measured in the same run.

    .venv/bin/python bench/bench_reliability.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

QUICK: dict[str, Any] = {"messages": 300, "kills": 3, "outage_messages": 150, "sends": (200, 20, 4, 2), "fuzz": 150}
LONG: dict[str, Any] = {"messages": 2000, "kills": 6, "outage_messages": 600, "sends": (1000, 50, 10, 5), "fuzz": 1000}


def _fuzz(url: str, workdir: Path, examples: int) -> dict[str, Any]:
    """Hypothesis against a receiver process: random bodies, mutated callbacks, forged credentials."""
    import requests
    from hypothesis import HealthCheck, given, settings
    from reliability.fuzz import Tally, content_types, counts, forged_requests, mutated_callbacks, post, raw_bodies
    from reliability.receiver_process import ReceiverProcess

    from airflow_provider_messaging.store import MessageStore

    store = MessageStore(url)
    store.upgrade()
    tally, forged = Tally(), Tally()
    with ReceiverProcess(url, workdir) as receiver, requests.Session() as session:
        options = settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)

        def one(route: str, body: bytes, content_type: str) -> None:
            before = counts(store)
            response = post(session, receiver.url, route, body, content_type)
            tally.record(response, before, counts(store), route)

        @options
        @given(raw_bodies(), content_types)
        def bodies(case: tuple[str, bytes], content_type: str) -> None:
            one(case[0], case[1], content_type)

        @options
        @given(mutated_callbacks())
        def fields(case: tuple[str, bytes]) -> None:
            one(case[0], case[1], "application/json")

        bodies()
        fields()
        for _name, route, body, headers, params in forged_requests(b" "):
            before = counts(store)
            response = session.post(receiver.url + route, data=body, headers=headers, params=params, timeout=30)
            forged.record(response, before, counts(store), route)
        alive = receiver.alive()
        logs = receiver.log_text()
    store.dispose()
    return {"tally": tally, "forged": forged, "alive": alive, "logs": logs}


def run(quick: bool = False) -> str:
    """Run the reliability scenarios and return a Markdown section."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-reliability-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from reliability.receiver_process import secrets_found
    from reliability.scenarios import (
        Verdict,
        postgres_outage,
        run_callback_load,
        run_store_outage,
        sqlite_outage,
    )
    from reliability.sends import SEND_API_KEY, SendVerdict, run_duplicate_sends
    from support.postgres import PostgresServer

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
            fuzz = _fuzz(shared.create_database("fuzz"), root / "fuzz", p["fuzz"])
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
    tally, forged = fuzz["tally"], fuzz["forged"]
    five = sum(n for code, n in tally.statuses.items() if code >= 500)
    lines += [
        "",
        "### Hostile input (PostgreSQL store)",
        "",
        f"- Fuzzed requests (Hypothesis: random JSON, truncated, wrong types, huge, unicode, deep nesting, content "
        f"types): {tally.total}; answers {dict(sorted(tally.statuses.items()))}; 5xx: {five}; rows written on a "
        f"reject: {len(tally.rows_after_reject)}; stack traces: {len(tally.traces)}; process alive: {fuzz['alive']}.",
        f"- Forged/replayed-onto-another-body/unauthenticated callbacks: {forged.total}; answers "
        f"{dict(forged.statuses)}; rows written: {len(forged.rows_after_reject)}.",
        f"- Secrets (API keys, callback token, Basic password) found in all logs of this run: {sum(leaks.values())}.",
    ]
    problems = [f"{v.label}: {pr}" for v in (baseline, *loads, *outages) for pr in v.problems()]
    problems += [f"sends {s.label}: {pr}" for s in sends for pr in s.problems()]
    if five or tally.rows_after_reject or set(forged.statuses) != {401} or forged.rows_after_reject:
        problems.append("hostile input got through")
    if leaks:
        problems.append(f"secrets in logs: {leaks}")
    lines += ["", f"**Verdict:** {'all guarantees held' if not problems else 'FAILED: ' + '; '.join(problems)}."]
    lines.append(f"\n_(reliability suite {time.monotonic() - started:.0f} s)_")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
