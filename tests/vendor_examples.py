"""Vendor example payloads stored under ``tests/fixtures/vendor`` (see the README there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vendor"


def load(name: str) -> dict[str, Any]:
    """Return the example ``name`` (with or without ``.json``) as a fresh dict."""
    path = FIXTURES / (name if name.endswith(".json") else f"{name}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def names(prefix: str = "") -> list[str]:
    """Sorted example names (without ``.json``) that start with ``prefix``."""
    return sorted(p.stem for p in FIXTURES.glob(f"{prefix}*.json"))
