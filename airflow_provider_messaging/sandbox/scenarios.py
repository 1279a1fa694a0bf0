"""The recipient table of docs/CONTRACTS.md: the last digit of the recipient number picks the outcome."""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # 0, 1: first channel delivered
    FALLBACK_TIMEOUT = "fallback_timeout"  # 2: first channel times out (3056 / RCS FAIL), next one delivered
    ALL_FAIL = "all_fail"  # 3: every channel fails
    UNSUPPORTED = "unsupported"  # 4: first channel unsupported by the device (3055), next one delivered
    READ = "read"  # 5: delivered, then read
    REJECTED = "rejected"  # 6: the send is refused with HTTP 400 (invalid recipient)
    OUT_OF_ORDER = "out_of_order"  # 7: delivered; callbacks out of order and duplicated
    RATE_LIMITED = "rate_limited"  # 8: first attempt 429, then as DELIVERED
    SILENT = "silent"  # 9: accepted, no callback ever


_BY_DIGIT = {
    "0": Outcome.DELIVERED,
    "1": Outcome.DELIVERED,
    "2": Outcome.FALLBACK_TIMEOUT,
    "3": Outcome.ALL_FAIL,
    "4": Outcome.UNSUPPORTED,
    "5": Outcome.READ,
    "6": Outcome.REJECTED,
    "7": Outcome.OUT_OF_ORDER,
    "8": Outcome.RATE_LIMITED,
    "9": Outcome.SILENT,
}


def outcome_for(number: str) -> Outcome:
    """Outcome for a recipient; anything not ending in a digit behaves as ``DELIVERED``."""
    digits = [c for c in number if c.isdigit()]
    return _BY_DIGIT[digits[-1]] if digits else Outcome.DELIVERED


def describe() -> list[dict[str, str]]:
    """The table as data (served by ``GET /sandbox/health``)."""
    return [{"last_digit": digit, "outcome": outcome.value} for digit, outcome in _BY_DIGIT.items()]
