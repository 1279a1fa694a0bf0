"""Fixtures of the failover tests: real local vendor servers, a real store, real DAG runs."""

from __future__ import annotations

import pytest

from tests.operators.ops_support import Env


@pytest.fixture
def env(env_any_store: Env) -> Env:
    """Both vendors' send APIs on a recording local server, and the store (SQLite and PostgreSQL)."""
    return env_any_store
