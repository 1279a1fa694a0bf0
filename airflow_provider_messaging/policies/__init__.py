"""Sending policies: local-time windows and frequency caps per message type, decided in one pure place.

``SendingPolicy`` is the configuration (:mod:`.model`), ``decide`` the pure decision (:mod:`.decision`),
``resolve_policy`` reads the defaults from the connection and ``[messaging]`` (:mod:`.settings`).
"""

from __future__ import annotations

from airflow_provider_messaging.policies.decision import (
    CapScope,
    Decision,
    RecipientHistory,
    SendNow,
    Skip,
    WaitUntil,
    cap_scopes,
    decide,
)
from airflow_provider_messaging.policies.model import FrequencyCap, SendingPolicy, SendWindow
from airflow_provider_messaging.policies.settings import resolve_policy

__all__ = [
    "CapScope",
    "Decision",
    "FrequencyCap",
    "RecipientHistory",
    "SendNow",
    "SendWindow",
    "SendingPolicy",
    "Skip",
    "WaitUntil",
    "cap_scopes",
    "decide",
    "resolve_policy",
]
