"""Consent records and the opt-out list on SQLite and on a real PostgreSQL: keywords, API/UI/CLI, import."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect

from airflow_provider_messaging.store import MessageStore, NewInbound, migrate
from airflow_provider_messaging.store.optout_files import OptOutEntry

SENDER = "11234567890"
AT = datetime(2023, 12, 13, 9, 36, 10, tzinfo=timezone.utc)


def _inbound(store: MessageStore, text: str, action: str | None, keyword: str | None, n: int) -> int:
    record, _ = store.record_inbound(
        vendor="telesign",
        raw_body=f'{{"n": {n}}}',
        inbound=NewInbound(channel="sms", sender=SENDER, text=text, action=action, keyword=keyword, received_at=AT),
    )
    return record.id


def test_keywords_record_each_change_of_consent(store: MessageStore) -> None:
    stop_id = _inbound(store, "STOP", "stop", "stop", 1)
    _inbound(store, "quit", "stop", "quit", 2)  # already opted out: no second record
    start_id = _inbound(store, "Unstop", "start", "unstop", 3)
    _inbound(store, "yes", "start", "yes", 4)  # not opted out any more: no record
    history = store.consent_history("telesign", "+1 123 456 7890")
    assert [(h["action"], h["method"], h["keyword"], h["inbound_id"]) for h in history] == [
        ("opt_out", "keyword", "stop", stop_id),
        ("opt_in", "keyword", "unstop", start_id),
    ]
    assert history[0]["occurred_at"] == AT.isoformat()  # when the recipient sent it
    assert not store.is_opted_out("telesign", SENDER)
    assert store.count("consent") == 2


def test_api_ui_and_vendor_error_opt_outs_say_how(store: MessageStore) -> None:
    assert store.add_opt_out("telesign", "+1 555 000 0001", source="api", campaign="spring-sale", consent_text="t&c v3")
    assert not store.add_opt_out("telesign", "15550000001", source="cli")  # no second record
    assert store.add_opt_out(
        "aerialink", "15550000002", source="vendor_error", detail="code 510: blocked by subscriber"
    )
    assert store.remove_opt_out("telesign", "15550000001", source="ui")
    assert not store.remove_opt_out("telesign", "15550000001", source="ui")
    rows = [
        (h["vendor"], h["recipient"], h["action"], h["method"], h["campaign"], h["consent_text"], h["detail"])
        for h in store.consent_history()
    ]
    assert rows == [
        ("telesign", "15550000001", "opt_out", "api", "spring-sale", "t&c v3", None),
        ("aerialink", "15550000002", "opt_out", "vendor_error", None, None, "code 510: blocked by subscriber"),
        ("telesign", "15550000001", "opt_in", "ui", None, None, None),
    ]
    [listed] = store.list_opt_outs()
    assert (listed["vendor"], listed["recipient"], listed["source"]) == ("aerialink", "15550000002", "vendor_error")


def test_an_explicit_opt_in_is_always_recorded(store: MessageStore) -> None:
    assert not store.record_opt_in("telesign", SENDER, method="api", consent_text="I agree to texts", campaign="signup")
    store.add_opt_out("telesign", SENDER)
    assert store.record_opt_in("telesign", SENDER, method="api", campaign="signup-again")
    assert not store.is_opted_out("telesign", SENDER)
    assert [(h["action"], h["campaign"]) for h in store.consent_history(recipient=SENDER)] == [
        ("opt_in", "signup"),
        ("opt_out", None),
        ("opt_in", "signup-again"),
    ]


def test_import_keeps_the_original_source_and_time(store: MessageStore) -> None:
    store.add_opt_out("telesign", "15550000003")
    earlier = datetime(2024, 2, 1, 8, 0, tzinfo=timezone.utc)
    entries = [
        OptOutEntry("telesign", "+1 555 000 0003"),  # already there
        OptOutEntry("telesign", "15550000004", source="keyword", keyword="stop", created_at=earlier),
        OptOutEntry("aerialink", "15550000004", campaign="winter"),
        *[OptOutEntry("aerialink", f"1555100{i:04d}") for i in range(7)],
    ]
    assert store.import_opt_outs(entries, batch_size=3) == (9, 1)
    assert store.import_opt_outs(entries, batch_size=3) == (0, 10)  # idempotent
    rows = {(r["vendor"], r["recipient"]): r for r in store.list_opt_outs()}
    assert len(rows) == 10
    kept = rows[("telesign", "15550000004")]
    assert (kept["source"], kept["keyword"], kept["created_at"]) == ("keyword", "stop", earlier.isoformat())
    assert rows[("aerialink", "15550000004")]["source"] == "import"
    imported = [h for h in store.consent_history() if h["method"] == "import"]
    assert len(imported) == 9
    first = next(h for h in imported if h["recipient"] == "15550000004" and h["vendor"] == "telesign")
    assert first["detail"] == "imported; first recorded by keyword" and first["occurred_at"] == earlier.isoformat()
    assert next(h for h in imported if h["vendor"] == "aerialink" and h["recipient"] == "15550000004")["campaign"] == (
        "winter"
    )


def test_racing_writers_make_one_entry_and_one_record(store: MessageStore) -> None:
    """Eight threads (each with its own store/engine) add the same recipient while a STOP arrives."""
    url = store.url
    barrier = threading.Barrier(9)
    results: list[bool] = []
    errors: list[BaseException] = []

    def add() -> None:
        other = MessageStore(url)
        try:
            barrier.wait(timeout=30)
            results.append(other.add_opt_out("telesign", SENDER, source="api"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            other.dispose()

    threads = [threading.Thread(target=add) for _ in range(8)]
    for t in threads:
        t.start()
    barrier.wait(timeout=30)
    _inbound(store, "STOP", "stop", "stop", 99)
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert store.count("opt_outs") == 1
    assert store.count("consent") == 1
    assert results.count(True) <= 1  # the keyword may have won


def test_migration_0004_upgrades_a_0003_store(tmp_path: pytest.TempPathFactory) -> None:
    store = MessageStore(f"sqlite:///{tmp_path}/old.db")
    try:
        migrate.upgrade(store.engine, "0003")
        assert "messaging_consent" not in inspect(store.engine).get_table_names()
        assert not store.schema_is_current()
        store.ensure_schema(auto_upgrade=True)
        assert "messaging_consent" in inspect(store.engine).get_table_names()
        assert store.schema_is_current() and migrate.head_revision() == "0004"
        assert store.add_opt_out("telesign", SENDER) and store.count("consent") == 1
    finally:
        store.dispose()
