"""``airflow-messaging optouts export`` / ``import`` as a real subprocess against temporary SQLite stores."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from airflow_provider_messaging.store import MessageStore, NewInbound

CLI = str(Path(sys.executable).with_name("airflow-messaging"))


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, env=os.environ.copy(), input=stdin)


def _store(path: Path) -> MessageStore:
    store = MessageStore(f"sqlite:///{path}")
    store.upgrade()
    return store


def test_export_then_import_into_another_store(tmp_path: Path) -> None:
    source = _store(tmp_path / "a.db")
    source.add_opt_out("telesign", "+1 555 000 0001", source="api")
    source.record_inbound(
        vendor="aerialink",
        raw_body="{}",
        inbound=NewInbound(channel="sms", sender="15550000002", text="STOP", action="stop", keyword="stop"),
    )
    source.dispose()
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"

    exported = run("--store-url", a, "optouts", "export")  # CSV on stdout, nothing else
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["vendor"], r["recipient"], r["source"], r["keyword"]) for r in rows] == [
        ("telesign", "15550000001", "api", ""),
        ("aerialink", "15550000002", "keyword", "stop"),
    ]
    as_json = run("--store-url", a, "optouts", "export", "--vendor", "aerialink", "-o", str(tmp_path / "x.json"))
    assert as_json.returncode == 0 and as_json.stdout == ""
    assert "exported 1 opt-out(s)" in as_json.stderr
    [item] = json.loads((tmp_path / "x.json").read_text())
    assert (item["vendor"], item["recipient"], item["keyword"]) == ("aerialink", "15550000002", "stop")

    (tmp_path / "list.csv").write_text(exported.stdout)
    imported = run("--store-url", b, "optouts", "import", str(tmp_path / "list.csv"), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {"read": 2, "added": 2, "already_listed": 0}
    again = run("--store-url", b, "optouts", "import", str(tmp_path / "x.json"))
    assert again.returncode == 0 and "imported 0 opt-out(s)" in again.stdout and "1 already listed" in again.stdout

    target = MessageStore(b)
    try:
        assert sorted((r["vendor"], r["recipient"], r["source"]) for r in target.list_opt_outs()) == sorted(
            (r["vendor"], r["recipient"], r["source"]) for r in rows
        )
        created = {r["recipient"]: r["created_at"] for r in rows}
        assert {r["recipient"]: r["created_at"] for r in target.list_opt_outs()} == created  # times kept
        assert {h["method"] for h in target.consent_history()} == {"import"}
    finally:
        target.dispose()


def test_import_from_stdin_with_a_default_vendor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    result = run("--store-url", url, "optouts", "import", "-", "--vendor", "telesign", stdin="recipient\n15551110000\n")
    assert result.returncode == 0, result.stderr
    listed = run("--store-url", url, "optouts", "list", "--json")
    assert [(r["vendor"], r["recipient"], r["source"]) for r in json.loads(listed.stdout)] == [
        ("telesign", "15551110000", "import")
    ]


def test_a_bad_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "vendor,recipient,created_at\ntelesign,15550000001,\n,15550000002,\ntelesign,,\ntelesign,1555,yesterday\n"
    )
    result = run("--store-url", url, "optouts", "import", str(bad))
    assert result.returncode == 1
    assert "nothing imported" in result.stderr
    for expected in ("line 3.vendor", "line 4.recipient", "line 5.created_at"):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr
    listed = run("--store-url", url, "optouts", "list", "--json")
    assert json.loads(listed.stdout) == []
    missing = run("--store-url", url, "optouts", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
