"""Sending policies in real DAG runs (dag.test()): a closed window defers and sends when it opens, a cap
skips, a dry run sends and reserves nothing. Real HTTP to a local vendor stand-in, a real SQLite store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.operators.ops_support import Env, rows
from tests.support.dag_runner import run_dag, states, ti_of, xcom

FILE = "pol_policy.py"
NEW_YORK = "12025550123"
SYDNEY = "61293744000"


def _window_opening_in(seconds: int, zone: str, hours: int = 2) -> tuple[str, datetime]:
    """A window that opens ``seconds`` from now in ``zone`` and lasts ``hours`` (HH:MM:SS-HH:MM:SS)."""
    opens = datetime.now(ZoneInfo(zone)).replace(microsecond=0) + timedelta(seconds=seconds)
    closes = opens + timedelta(hours=hours)
    return f"{opens:%H:%M:%S}-{closes:%H:%M:%S}", opens.astimezone(timezone.utc)


def test_marketing_send_outside_its_window_defers_then_sends(env: Env) -> None:
    env.vendor.connect("pol_window", "telesign")
    window, opens = _window_opening_in(6, "America/New_York")
    started = datetime.now(timezone.utc)

    dag_run = run_dag("pol_window", FILE, phone=NEW_YORK, window=window)

    assert states(dag_run) == {"promo": ("success", 1)}  # deferred and resumed: one try, no retry
    assert len(env.vendor.sends("pol_window")) == 1
    [row] = rows(env.store)
    assert started < opens <= row["created_at"]  # reserved only once the window was open
    assert row["message_type"] == "MKT" and row["send_status"] == "ACCEPTED"
    assert xcom(dag_run, "promo")["status"] == "QUEUED"


def test_bulk_send_sends_each_recipient_when_its_own_window_opens(env: Env) -> None:
    env.vendor.connect("pol_bulk", "telesign")
    # A 20-hour window opening in 6 s in Sydney is already open in New York (16 hours behind in December,
    # 15 in other months): New York goes at once, Sydney when its window opens.
    window, opens = _window_opening_in(6, "Australia/Sydney", hours=20)

    dag_run = run_dag("pol_bulk_window", FILE, recipients=[NEW_YORK, SYDNEY], window=window)

    assert states(dag_run) == {"promo": ("success", 1)}
    assert env.vendor.per_recipient("pol_bulk") == {NEW_YORK: 1, SYDNEY: 1}
    created = {r["recipient"]: r["created_at"] for r in rows(env.store)}
    assert created[NEW_YORK] < opens <= created[SYDNEY]
    records = {r["recipient"]: r for r in xcom(dag_run, "promo")}
    assert {r["status"] for r in records.values()} == {"QUEUED"}
    assert records[NEW_YORK]["outcome"] == "already_sent"  # sent before the deferral, found on resume
    assert records[SYDNEY]["outcome"] == "accepted"
    assert xcom(dag_run, "promo", key="waiting") == 0  # the last run's count


def test_a_capped_send_is_skipped_and_otp_is_exempt(env: Env) -> None:
    env.vendor.connect("pol_cap", "telesign")
    dag_run = run_dag("pol_cap", FILE, phone=NEW_YORK)
    assert states(dag_run) == {"first": ("success", 1), "second": ("skipped", 1), "code": ("success", 1)}
    assert [r.json()["message_type"] for r in env.vendor.sends("pol_cap")] == ["ARN", "OTP"]
    stored = {r["task_id"]: r for r in rows(env.store)}
    assert {t: r["send_status"] for t, r in stored.items()} == {
        "first": "ACCEPTED",
        "second": "SKIPPED",
        "code": "ACCEPTED",
    }
    assert stored["second"]["error"].startswith("frequency_cap: ")  # the reason, for the view and the report


def test_failover_send_applies_its_policy_once_per_logical_message(env: Env) -> None:
    """``policy=``/``message_category=`` on FailoverSendOperator: a closed window defers the whole chain,
    then it sends once through the first vendor; the next logical message is capped and skipped."""
    env.vendor.connect("pol_fo_telesign", "telesign")
    env.vendor.connect("pol_fo_aerialink", "aerialink")
    window, opens = _window_opening_in(6, "America/New_York")

    dag_run = run_dag("pol_failover", FILE, phone=NEW_YORK, window=window)

    assert states(dag_run) == {"promo": ("success", 1), "again": ("skipped", 1)}
    assert (len(env.vendor.sends("pol_fo_telesign")), len(env.vendor.sends("pol_fo_aerialink"))) == (1, 0)
    stored = {r["task_id"]: r for r in rows(env.store)}
    sent, skipped = stored["promo"], stored["again"]
    assert sent["send_status"] == "ACCEPTED" and sent["message_type"] == "MKT"  # the category, not Telesign's
    assert opens <= sent["created_at"]  # reserved only once the window was open
    assert skipped["send_status"] == "SKIPPED" and skipped["error"].startswith("frequency_cap: ")
    assert skipped["logical_key"] == f"pol_failover/again/{dag_run.run_id}/-1" and skipped["attempt"] == 0
    assert xcom(dag_run, "promo")["logical_id"] == sent["logical_key"]


def test_dry_run_previews_and_sends_nothing(env: Env) -> None:
    env.vendor.connect("pol_dry", "telesign")
    env.vendor.connect("pol_dry_rcs", "aerialink")
    env.store.add_opt_out("aerialink", "15559876544")

    dag_run = run_dag("pol_dry_run", FILE, phone=NEW_YORK)

    assert states(dag_run) == {"link": ("success", 1), "bulk": ("success", 1)}
    assert env.vendor.server.requests == [] and rows(env.store) == []
    link = xcom(dag_run, "link")
    assert link["dry_run"] is True and link["recipient"] == NEW_YORK and link["message_type"] == "MKT"
    assert link["decision"]["decision"] in ("send_now", "wait")  # depends on the hour in New York
    rcs, sms = link["steps"]
    assert (rcs["channel"], rcs["fallback_after"], rcs["buttons"]) == (
        "rcs",
        300,
        ["open 'Track Order' -> https://viatushop.com/track/45390"],
    )
    assert sms["segments"]["encoding"] == "UCS-2" and sms["segments"]["ucs2_characters"] == ["\U0001f389"]
    assert sms["warnings"][0].startswith("UCS-2 forced by")
    bulk = {r["recipient"]: r for r in xcom(dag_run, "bulk")}
    assert bulk["15559876543"]["decision"] == {"decision": "send_now"}
    assert bulk["15559876544"]["decision"]["code"] == "opted_out"
    assert [s["channel"] for s in bulk["15559876543"]["steps"]] == ["rcs", "sms"]
    assert ti_of(dag_run, "bulk").state == "success"


def test_campaign_counts_waiting_recipients_and_sends_each_at_its_window(env: Env) -> None:
    env.vendor.connect("pol_campaign", "telesign")
    window, opens = _window_opening_in(6, "Australia/Sydney", hours=20)

    dag_run = run_dag("pol_campaign_window", FILE, recipients=[NEW_YORK, SYDNEY], window=window)

    assert states(dag_run) == {"promo": ("success", 1)}
    assert env.vendor.per_recipient("pol_campaign") == {NEW_YORK: 1, SYDNEY: 1}
    created = {r["recipient"]: r["created_at"] for r in rows(env.store)}
    assert created[NEW_YORK] < opens <= created[SYDNEY]
    handle = xcom(dag_run, "promo")
    assert handle["campaign_id"] == f"spring-{dag_run.run_id}"
    # the last resume found New York sent before the deferral and sent Sydney: nobody waits any more
    assert handle["counts"] == {"accepted": 1, "already_sent": 1}
    assert {r["campaign_id"] for r in rows(env.store)} == {handle["campaign_id"]}
    # the handle pushed before the deferral said who was waiting
    assert xcom(dag_run, "promo", key="campaign")["counts"] == {"accepted": 1, "waiting": 1}
