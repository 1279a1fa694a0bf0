"""SendingPolicy as configuration: validation with field paths, round trips, layering of defaults."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.policies import FrequencyCap, SendingPolicy, SendWindow, resolve_policy
from airflow_provider_messaging.policies.settings import combine

FULL = {
    "windows": {"mkt": "08:00-21:00", "*": {"start": "07:30", "end": "22:00", "days": ["Mon", "tue"]}},
    "caps": [
        {"limit": 3, "period": "24h"},
        {"limit": 1, "period": 3600, "per_vendor": True, "per_message_type": True},
        {"limit": 10, "period": "P7D", "message_types": "arn"},
    ],
    "exempt": ["otp"],
    "fallback_timezone": "America/Chicago",
    "max_wait": "36h",
}


def test_shorthands_are_read_and_normalised() -> None:
    policy = SendingPolicy.from_dict(FULL)
    assert policy.windows["MKT"] == SendWindow(start=time(8), end=time(21))
    assert policy.windows["*"].days == ("mon", "tue")
    assert policy.caps[0] == FrequencyCap(limit=3, period=timedelta(hours=24))
    assert policy.caps[1].period == timedelta(hours=1)
    assert policy.caps[2].period == timedelta(days=7) and policy.caps[2].message_types == ("ARN",)
    assert policy.exempt == ("OTP",)
    assert policy.max_wait == timedelta(hours=36)


def test_round_trip_through_json() -> None:
    policy = SendingPolicy.from_dict(FULL)
    data = policy.to_dict()
    assert data == {
        "windows": {
            "MKT": {"start": "08:00", "end": "21:00"},
            "*": {"start": "07:30", "end": "22:00", "days": ["mon", "tue"]},
        },
        "caps": [
            {"limit": 3, "period": "1d", "per_vendor": False, "per_message_type": False},
            {"limit": 1, "period": "1h", "per_vendor": True, "per_message_type": True},
            {"limit": 10, "period": "1w", "per_vendor": False, "per_message_type": False, "message_types": ["ARN"]},
        ],
        "exempt": ["OTP"],
        "fallback_timezone": "America/Chicago",
        "max_wait": "36h",
    }
    again = SendingPolicy.from_dict(json.loads(json.dumps(data)))
    assert again == policy
    assert SendingPolicy.from_dict(json.dumps(data)) == policy  # JSON text too


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"windows": {"MKT": "8-21"}}, "windows.MKT", "HH:MM-HH:MM"),
        ({"windows": {"MKT": {"start": "25:00", "end": "21:00"}}}, "windows.MKT.start", "time"),
        ({"windows": {"MKT": "09:00-09:00"}}, "windows.MKT", "same time"),
        ({"windows": {"MKT": {"start": "08:00", "end": "21:00", "days": ["someday"]}}}, "windows.MKT.days.0", "mon"),
        ({"caps": [{"limit": 0, "period": "1d"}]}, "caps.0.limit", "greater than or equal to 1"),
        ({"caps": [{"limit": 1, "period": "-1h"}]}, "caps.0.period", ""),
        ({"caps": [{"limit": 1}]}, "caps.0.period", "required"),
        ({"fallback_timezone": "Mars/Olympus"}, "fallback_timezone", "IANA time zone"),
        ({"quiet": True}, "quiet", "unknown field"),
    ],
)
def test_bad_policies_name_the_field_and_the_rule(data: dict, field: str, words: str) -> None:
    with pytest.raises(PayloadValidationError) as info:
        SendingPolicy.from_dict(data)
    assert field in info.value.fields, info.value
    assert words in str(info.value)
    assert "SendingPolicy" in str(info.value)


def test_window_and_cap_descriptions() -> None:
    assert str(SendWindow.model_validate("08:00-21:00")) == "08:00-21:00"
    window = SendWindow.model_validate({"start": "22:00", "end": "06:30:15", "days": ["sat", "sun"]})
    assert str(window) == "22:00-06:30:15 on sat,sun"
    cap = FrequencyCap.model_validate({"limit": 2, "period": "90m", "message_types": ["MKT"], "per_vendor": True})
    assert str(cap) == "2 per 90m (MKT messages, per vendor)"


def test_merge_replaces_set_fields_and_merges_windows() -> None:
    base = SendingPolicy.from_dict({"windows": {"MKT": "08:00-21:00", "ARN": "07:00-22:00"}, "max_wait": "1d"})
    over = base.merged({"windows": {"MKT": "09:00-20:00"}, "caps": [{"limit": 1, "period": "1d"}]})
    assert str(over.windows["MKT"]) == "09:00-20:00"
    assert str(over.windows["ARN"]) == "07:00-22:00"  # kept from the base
    assert len(over.caps) == 1 and over.max_wait == timedelta(days=1)
    assert base.merged(None) is base


def test_layers_config_then_connection_then_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW__MESSAGING__SENDING_POLICY",
        json.dumps({"windows": {"MKT": "08:00-21:00"}, "caps": [{"limit": 5, "period": "1d"}]}),
    )
    # config alone
    assert str(resolve_policy().windows["MKT"]) == "08:00-21:00"
    # the connection's extra (JSON text, as the UI stores it) overrides the caps and adds a window
    extras = {"sending_policy": json.dumps({"caps": [{"limit": 2, "period": "1d"}], "windows": {"ARN": "07:00-22:00"}})}
    policy = resolve_policy(extras=extras)
    assert [c.limit for c in policy.caps] == [2]
    assert set(policy.windows) == {"MKT", "ARN"}
    # the operator's policy wins over both
    policy = resolve_policy({"windows": {"MKT": "10:00-18:00"}, "caps": []}, extras=extras)
    assert str(policy.windows["MKT"]) == "10:00-18:00" and policy.caps == ()
    # a SendingPolicy instance works as the operator's argument too
    assert resolve_policy(SendingPolicy(), extras=extras).caps[0].limit == 2


def test_no_settings_means_the_empty_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__MESSAGING__SENDING_POLICY", raising=False)
    assert resolve_policy(get_option=lambda key: "").is_empty
    assert combine(config_value="  ", extras={"sending_policy": None}).is_empty


@pytest.mark.parametrize(
    ("kwargs", "where", "words"),
    [
        ({"config_value": "{not json"}, "[messaging] sending_policy", "not valid JSON"),
        ({"config_value": "[1, 2]"}, "[messaging] sending_policy", "JSON object"),
        (
            {"extras": {"sending_policy": {"windows": {"MKT": "late"}}}},
            "connection extra 'sending_policy'",
            "windows.MKT",
        ),
        ({"policy": {"caps": [{"limit": "many", "period": "1d"}]}}, "policy", "caps.0.limit"),
    ],
)
def test_bad_settings_say_where_they_come_from(kwargs: dict, where: str, words: str) -> None:
    with pytest.raises(PayloadValidationError) as info:
        combine(**kwargs)
    assert info.value.model == where
    assert words in str(info.value)
