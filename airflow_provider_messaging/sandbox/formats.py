"""Identifiers and timestamp shapes exactly as the vendors write them."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def telesign_reference_id() -> str:
    """32 uppercase hex digits, like ``35C8B5D509BC10689196FED2AD551B8A``."""
    return uuid.uuid4().hex.upper()


def aerialink_guid() -> str:
    return str(uuid.uuid4())


def telesign_status_time(dt: datetime) -> str:
    """``2020-05-04 22:07:01:226`` (colon before the milliseconds: a vendor quirk)."""
    return f"{dt:%Y-%m-%d %H:%M:%S}:{dt.microsecond // 1000:03d}"


def telesign_channel_time(dt: datetime) -> str:
    """``2020-05-04 22:05:00.325``."""
    return f"{dt:%Y-%m-%d %H:%M:%S}.{dt.microsecond // 1000:03d}"


def iso_micro_z(dt: datetime) -> str:
    """``2023-10-31T14:47:10.490130Z`` (Telesign MO callbacks and error bodies)."""
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond:06d}Z"


def iso_milli_z(dt: datetime) -> str:
    """``2025-01-01T12:00:00.123Z`` (Aerialink callbacks, assumed shape)."""
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"
