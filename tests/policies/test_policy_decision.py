"""The pure sending decision: table-driven, fixed clocks, numbers from several countries and zones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_messaging.policies import (
    CapScope,
    RecipientHistory,
    SendingPolicy,
    SendNow,
    Skip,
    WaitUntil,
    cap_scopes,
    decide,
)
from airflow_provider_messaging.policies.windows import recipient_time_zones

UTC = timezone.utc
MKT = SendingPolicy.marketing_hours()  # MKT only 08:00-21:00 local


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


NEW_YORK = "+12025550123"  # Washington DC: America/New_York only
LOS_ANGELES = "13105550123"  # without '+', as Telesign takes it
SYDNEY = "+61293744000"  # Sydney landline: Australia/Sydney
AU_MOBILE = "+61412345678"  # no region: all 8 Australian zones (Lord Howe .. Cocos)
RU_MOBILE = "+79161234567"  # no region: 16 zones from Europe/Bucharest (sic) to Asia/Anadyr
BR_SAO_PAULO = "+551130000000"
BR_TOLL_FREE = "+558001234567"  # Manaus, Noronha, Rio_Branco, Sao_Paulo
UK_LONDON = "+442071234567"


WINDOW_CASES: list[tuple[str, str, datetime, Any]] = [
    # --- one zone, standard time: 08:00 EST = 13:00 UTC, 21:00 EST = 02:00 UTC next day
    ("NY before opening", NEW_YORK, at(2026, 1, 15, 12, 0), at(2026, 1, 15, 13, 0)),
    ("NY at opening", NEW_YORK, at(2026, 1, 15, 13, 0), "now"),
    ("NY one second before closing", NEW_YORK, at(2026, 1, 16, 1, 59, 59), "now"),
    ("NY at closing (end is exclusive)", NEW_YORK, at(2026, 1, 16, 2, 0), at(2026, 1, 16, 13, 0)),
    ("LA digits without +", LOS_ANGELES, at(2026, 1, 15, 15, 0), at(2026, 1, 15, 16, 0)),
    # --- US DST starts Sunday 2026-03-08 02:00 local: 08:00 is 13:00 UTC on Saturday, 12:00 UTC on Sunday
    ("NY day before spring DST", NEW_YORK, at(2026, 3, 7, 11, 0), at(2026, 3, 7, 13, 0)),
    ("NY on the spring DST day", NEW_YORK, at(2026, 3, 8, 11, 0), at(2026, 3, 8, 12, 0)),
    ("NY closed Saturday night, opens in DST", NEW_YORK, at(2026, 3, 8, 2, 30), at(2026, 3, 8, 12, 0)),
    # --- US DST ends Sunday 2026-11-01: 21:00 EDT Saturday = 01:00 UTC; 08:00 EST Sunday = 13:00 UTC
    ("NY autumn: closes at 21:00 EDT", NEW_YORK, at(2026, 11, 1, 1, 0), at(2026, 11, 1, 13, 0)),
    ("NY autumn: open at 20:59 EDT", NEW_YORK, at(2026, 11, 1, 0, 59), "now"),
    # --- UK DST starts 2026-03-29: 08:00 BST = 07:00 UTC
    ("London on the DST day", UK_LONDON, at(2026, 3, 29, 6, 30), at(2026, 3, 29, 7, 0)),
    ("London in winter", UK_LONDON, at(2026, 1, 10, 7, 30), at(2026, 1, 10, 8, 0)),
    # --- Sydney DST ends Sunday 2026-04-05 03:00 AEDT: 08:00 AEDT = 21:00 UTC, 08:00 AEST = 22:00 UTC
    ("Sydney, last DST morning", SYDNEY, at(2026, 4, 3, 20, 0), at(2026, 4, 3, 21, 0)),
    ("Sydney, first standard morning", SYDNEY, at(2026, 4, 4, 20, 0), at(2026, 4, 4, 22, 0)),
    # --- Australian mobile: open only when open from Lord Howe (UTC+11 in March) to Cocos (UTC+6:30):
    #     opens at 08:00 Cocos = 01:30 UTC, closes at 21:00 Lord Howe = 10:00 UTC
    ("AU mobile before the common window", AU_MOBILE, at(2026, 3, 9, 0, 0), at(2026, 3, 9, 1, 30)),
    ("AU mobile open in every zone", AU_MOBILE, at(2026, 3, 9, 9, 59), "now"),
    ("AU mobile closed in Lord Howe", AU_MOBILE, at(2026, 3, 9, 10, 0), at(2026, 3, 10, 1, 30)),
    # --- Russian mobile: from Europe/Bucharest (UTC+2 winter, +3 summer) to Asia/Anadyr (UTC+12):
    #     winter 06:00-09:00 UTC, summer 05:00-09:00 UTC (only Bucharest has DST)
    ("RU mobile, winter", RU_MOBILE, at(2026, 1, 20, 4, 0), at(2026, 1, 20, 6, 0)),
    ("RU mobile, summer", RU_MOBILE, at(2026, 7, 20, 4, 0), at(2026, 7, 20, 5, 0)),
    ("RU mobile, after Anadyr closed", RU_MOBILE, at(2026, 7, 20, 9, 0), at(2026, 7, 21, 5, 0)),
    # --- Brazil: no DST since 2019. Sao Paulo 08:00 = 11:00 UTC; toll-free spans UTC-5 (Rio Branco)
    #     to UTC-2 (Noronha): 13:00 to 23:00 UTC
    ("Sao Paulo", BR_SAO_PAULO, at(2026, 1, 5, 10, 0), at(2026, 1, 5, 11, 0)),
    ("Brazil toll-free before Rio Branco opens", BR_TOLL_FREE, at(2026, 1, 5, 12, 0), at(2026, 1, 5, 13, 0)),
    ("Brazil toll-free after Noronha closed", BR_TOLL_FREE, at(2026, 1, 5, 23, 0), at(2026, 1, 6, 13, 0)),
    # --- not a phone number (an RCS sender id) and an invalid number: the fallback zone (UTC)
    ("sender id -> UTC", "CONVEY", at(2026, 1, 5, 7, 0), at(2026, 1, 5, 8, 0)),
    ("invalid number -> UTC", "+1907555012", at(2026, 1, 5, 21, 0), at(2026, 1, 6, 8, 0)),
]


@pytest.mark.parametrize(("case", "recipient", "now", "expected"), WINDOW_CASES, ids=[c[0] for c in WINDOW_CASES])
def test_marketing_window(case: str, recipient: str, now: datetime, expected: Any) -> None:
    decision = decide(MKT, recipient=recipient, message_type="MKT", now=now)
    if expected == "now":
        assert decision == SendNow(), case
    else:
        assert isinstance(decision, WaitUntil), (case, decision)
        assert decision.at == expected, case
        assert decision.at.tzinfo is not None


def test_zones_come_from_the_number() -> None:
    assert [z.key for z in recipient_time_zones(NEW_YORK)] == ["America/New_York"]
    assert [z.key for z in recipient_time_zones(SYDNEY)] == ["Australia/Sydney"]
    assert {"Australia/Lord_Howe", "Indian/Cocos", "Australia/Perth"} <= {
        z.key for z in recipient_time_zones(AU_MOBILE)
    }
    assert {"Europe/Moscow", "Asia/Anadyr"} <= {z.key for z in recipient_time_zones(RU_MOBILE)}
    assert [z.key for z in recipient_time_zones("CONVEY", "Europe/Paris")] == ["Europe/Paris"]


def test_window_start_in_the_spring_forward_gap_opens_at_the_transition() -> None:
    # 02:30 does not exist in New York on 2026-03-08: the clock jumps from 02:00 EST to 03:00 EDT (07:00 UTC)
    policy = SendingPolicy.from_dict({"windows": {"MKT": "02:30-04:00"}})
    decision = decide(policy, recipient=NEW_YORK, message_type="MKT", now=at(2026, 3, 8, 5, 0))
    assert decision == WaitUntil(at(2026, 3, 8, 7, 0), decision.reason)  # type: ignore[union-attr]
    # the day before, 02:30 EST is 07:30 UTC
    decision = decide(policy, recipient=NEW_YORK, message_type="MKT", now=at(2026, 3, 7, 5, 0))
    assert isinstance(decision, WaitUntil) and decision.at == at(2026, 3, 7, 7, 30)


def test_window_in_the_repeated_autumn_hour_uses_the_first_occurrence() -> None:
    # 01:30 happens twice in New York on 2026-11-01: first at 05:30 UTC (EDT), again at 06:30 UTC (EST)
    policy = SendingPolicy.from_dict({"windows": {"MKT": "01:30-01:45"}})
    decision = decide(policy, recipient=NEW_YORK, message_type="MKT", now=at(2026, 11, 1, 4, 0))
    assert isinstance(decision, WaitUntil) and decision.at == at(2026, 11, 1, 5, 30)


def test_overnight_window() -> None:
    policy = SendingPolicy.from_dict({"windows": {"*": {"start": "22:00", "end": "06:00"}}})
    london_noon = at(2026, 1, 10, 12, 0)
    decision = decide(policy, recipient=UK_LONDON, message_type="ARN", now=london_noon)
    assert isinstance(decision, WaitUntil) and decision.at == at(2026, 1, 10, 22, 0)
    assert decide(policy, recipient=UK_LONDON, message_type="ARN", now=at(2026, 1, 11, 5, 59)) == SendNow()


def test_weekday_window_waits_over_the_weekend() -> None:
    policy = SendingPolicy.from_dict(
        {"windows": {"MKT": {"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}}}
    )
    saturday = at(2026, 1, 10, 12, 0)  # 2026-01-10 is a Saturday
    decision = decide(policy, recipient=UK_LONDON, message_type="MKT", now=saturday)
    assert isinstance(decision, WaitUntil) and decision.at == at(2026, 1, 12, 9, 0)  # Monday 09:00 GMT


def test_types_exemptions_and_catch_all() -> None:
    night = at(2026, 1, 15, 7, 0)  # 02:00 in New York
    policy = SendingPolicy.from_dict({"windows": {"*": "08:00-21:00"}})
    assert isinstance(decide(policy, recipient=NEW_YORK, message_type="ARN", now=night), WaitUntil)
    assert isinstance(decide(policy, recipient=NEW_YORK, message_type="mkt", now=night), WaitUntil)
    assert decide(policy, recipient=NEW_YORK, message_type="OTP", now=night) == SendNow()
    assert decide(policy, recipient=NEW_YORK, message_type="transactional", now=night) == SendNow()
    # a type with no window under an MKT-only policy goes at once
    assert decide(MKT, recipient=NEW_YORK, message_type="ARN", now=night) == SendNow()
    # an exempt type named explicitly is governed
    named = SendingPolicy.from_dict({"windows": {"OTP": "07:00-23:00"}})
    assert isinstance(decide(named, recipient=NEW_YORK, message_type="OTP", now=night), WaitUntil)
    # exemptions are configurable: with none, the catch-all covers OTP too
    strict = SendingPolicy.from_dict({"windows": {"*": "08:00-21:00"}, "exempt": []})
    assert isinstance(decide(strict, recipient=NEW_YORK, message_type="OTP", now=night), WaitUntil)


def test_the_empty_policy_always_sends() -> None:
    policy = SendingPolicy()
    assert policy.is_empty
    assert decide(policy, recipient=RU_MOBILE, message_type="MKT", now=at(2026, 1, 1, 3, 0)) == SendNow()


def test_a_window_never_open_in_every_zone_is_a_skip() -> None:
    # one hour at 08:00 local cannot be open at once from UTC+3 to UTC+12
    policy = SendingPolicy.from_dict({"windows": {"MKT": "08:00-09:00"}})
    decision = decide(policy, recipient=RU_MOBILE, message_type="MKT", now=at(2026, 1, 20, 4, 0))
    assert isinstance(decision, Skip) and decision.code == "window_unreachable"
    assert "never open" in decision.reason and "08:00-09:00" in decision.reason and "more" in decision.reason
    # the same window on a one-zone number just waits
    assert isinstance(decide(policy, recipient=NEW_YORK, message_type="MKT", now=at(2026, 1, 20, 4, 0)), WaitUntil)


def test_max_wait_turns_a_long_wait_into_a_skip() -> None:
    policy = SendingPolicy.marketing_hours(max_wait="2h")
    soon = decide(policy, recipient=NEW_YORK, message_type="MKT", now=at(2026, 1, 15, 12, 0))  # opens in 1h
    assert isinstance(soon, WaitUntil)
    late = decide(policy, recipient=NEW_YORK, message_type="MKT", now=at(2026, 1, 15, 3, 0))  # opens in 10h
    assert isinstance(late, Skip) and late.code == "window_unreachable" and "max_wait 2h" in late.reason


def test_decision_needs_an_aware_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(MKT, recipient=NEW_YORK, message_type="MKT", now=datetime(2026, 1, 1, 12, 0))


# ------------------------------------------------------------------ frequency caps and opt-outs

NOW = at(2026, 1, 15, 15, 0)  # 10:00 in New York: the MKT window is open


def _history(policy: SendingPolicy, message_type: str, vendor: str | None, count: int) -> RecipientHistory:
    scopes = cap_scopes(policy, message_type=message_type, vendor=vendor, now=NOW)
    return RecipientHistory(counts=dict.fromkeys(scopes, count))


CAP_CASES: list[tuple[str, dict[str, Any], str, str | None, int, str]] = [
    ("under the cap", {"limit": 3, "period": "24h"}, "MKT", "telesign", 2, "send"),
    ("at the cap", {"limit": 3, "period": "24h"}, "MKT", "telesign", 3, "skip"),
    ("over the cap", {"limit": 1, "period": "1d"}, "ARN", None, 5, "skip"),
    ("exempt type ignores a catch-all cap", {"limit": 1, "period": "1d"}, "OTP", None, 9, "send"),
    ("cap for MKT only leaves ARN", {"limit": 1, "period": "1d", "message_types": ["MKT"]}, "ARN", None, 9, "send"),
    ("cap for MKT only", {"limit": 1, "period": "1d", "message_types": ["mkt"]}, "MKT", None, 1, "skip"),
    ("cap naming OTP covers it", {"limit": 5, "period": "1h", "message_types": ["OTP"]}, "OTP", None, 5, "skip"),
]


@pytest.mark.parametrize(
    ("case", "cap", "mtype", "vendor", "count", "expected"), CAP_CASES, ids=[c[0] for c in CAP_CASES]
)
def test_frequency_caps(
    case: str, cap: dict[str, Any], mtype: str, vendor: str | None, count: int, expected: str
) -> None:
    policy = SendingPolicy.from_dict({**MKT.to_dict(), "caps": [cap]})
    decision = decide(
        policy,
        recipient=NEW_YORK,
        message_type=mtype,
        vendor=vendor,
        now=NOW,
        history=_history(policy, mtype, vendor, count),
    )
    if expected == "send":
        assert decision == SendNow(), case
    else:
        assert isinstance(decision, Skip) and decision.code == "frequency_cap", case
        assert f"{count} sent" in decision.reason and NEW_YORK in decision.reason


def test_cap_scopes_say_what_to_count() -> None:
    policy = SendingPolicy.from_dict(
        {
            "caps": [
                {"limit": 3, "period": "24h"},
                {"limit": 1, "period": "1h", "per_vendor": True, "per_message_type": True},
                {"limit": 10, "period": "7d", "message_types": ["MKT", "ARN"]},
            ]
        }
    )
    scopes = cap_scopes(policy, message_type="mkt", vendor="aerialink", now=NOW)
    assert scopes == [
        CapScope(since=NOW - timedelta(hours=24), exclude_types=frozenset({"OTP", "TRANSACTIONAL"})),
        CapScope(since=NOW - timedelta(hours=1), vendor="aerialink", message_types=frozenset({"MKT"})),
        CapScope(since=NOW - timedelta(days=7), message_types=frozenset({"MKT", "ARN"})),
    ]
    # the Python-side filter agrees with the scope definition
    daily, hourly, weekly = scopes
    assert daily.counts(created_at=NOW, vendor="telesign", message_type="ARN")
    assert not daily.counts(created_at=NOW, vendor="telesign", message_type="otp")
    assert not daily.counts(created_at=NOW - timedelta(hours=25), vendor="telesign", message_type="ARN")
    assert daily.counts(created_at=NOW, vendor="telesign", message_type=None)  # untyped sends count
    assert hourly.counts(created_at=NOW, vendor="aerialink", message_type="MKT")
    assert not hourly.counts(created_at=NOW, vendor="telesign", message_type="MKT")
    assert not weekly.counts(created_at=NOW, vendor="aerialink", message_type="OTP")
    # only the first of several caps that is reached decides
    history = RecipientHistory(counts={daily: 0, hourly: 1, weekly: 0})
    decision = decide(policy, recipient=NEW_YORK, message_type="MKT", vendor="aerialink", now=NOW, history=history)
    assert isinstance(decision, Skip) and "1 per 1h" in decision.reason and "per vendor" in decision.reason


def test_a_missing_count_is_an_error_not_a_pass() -> None:
    policy = SendingPolicy.from_dict({"caps": [{"limit": 1, "period": "1d"}]})
    with pytest.raises(ValueError, match="no count"):
        decide(policy, recipient=NEW_YORK, message_type="MKT", now=NOW)


def test_opt_out_first_then_cap_then_window() -> None:
    policy = SendingPolicy.from_dict({**MKT.to_dict(), "caps": [{"limit": 1, "period": "1d"}]})
    night = at(2026, 1, 15, 7, 0)
    capped = _history(policy, "MKT", None, 1)
    opted = RecipientHistory(opted_out=True, counts=capped.counts)
    assert decide(policy, recipient=NEW_YORK, message_type="MKT", now=night, vendor="telesign", history=opted) == Skip(
        "opted_out", f"{NEW_YORK} opted out of telesign messages"
    )
    capped_night = RecipientHistory(counts=dict.fromkeys(cap_scopes(policy, message_type="MKT", now=night), 1))
    decision = decide(policy, recipient=NEW_YORK, message_type="MKT", now=night, history=capped_night)
    assert isinstance(decision, Skip) and decision.code == "frequency_cap"
    free_night = RecipientHistory(counts=dict.fromkeys(cap_scopes(policy, message_type="MKT", now=night), 0))
    assert isinstance(decide(policy, recipient=NEW_YORK, message_type="MKT", now=night, history=free_night), WaitUntil)


def test_decisions_serialize() -> None:
    wait = decide(MKT, recipient=NEW_YORK, message_type="MKT", now=at(2026, 1, 15, 12, 0))
    assert wait.to_dict() == {
        "decision": "wait",
        "until": "2026-01-15T13:00:00+00:00",
        "reason": "MKT window 08:00-21:00 in America/New_York is closed; opens at 2026-01-15T13:00:00+00:00",
    }
    assert SendNow().to_dict() == {"decision": "send_now"}
    assert Skip("frequency_cap", "x").to_dict() == {"decision": "skip", "code": "frequency_cap", "reason": "x"}
