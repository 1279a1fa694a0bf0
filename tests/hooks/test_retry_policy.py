"""The retry policy's decisions, one outcome at a time (pure: no hook, no transport)."""

from __future__ import annotations

import pytest

from airflow_provider_messaging.hooks.retry import Outcome, RetryPolicy, Sent, retry_after_seconds
from airflow_provider_messaging.hooks.transport import DEFAULT_POOL_RECYCLE

POLICY = RetryPolicy(max_retries=2, backoff_factor=1, backoff_jitter=0, backoff_max=30, max_retry_after=60)
REFUSED = Outcome(Sent.NOTHING)


def test_backoff_starts_at_first_retry_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=5, backoff_factor=1, backoff_jitter=0, backoff_max=3)
    assert policy.backoff(0) == 0
    assert [policy.backoff(n) for n in range(1, 5)] == [1, 2, 3, 3]


def test_backoff_jitter() -> None:
    policy = RetryPolicy(max_retries=3, backoff_factor=1, backoff_jitter=0.5)
    waits = {policy.backoff(1) for _ in range(20)}
    assert all(1 <= w <= 1.5 for w in waits)
    assert len(waits) > 1


def test_retry_after_seconds() -> None:
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert 0 <= (retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") or 0) <= 1  # past date: no wait


def test_connect_error_is_retried_with_backoff_until_the_budget_is_used() -> None:
    assert POLICY.decide(REFUSED).retry
    assert POLICY.decide(REFUSED).wait == 1
    assert POLICY.decide(REFUSED, [REFUSED]).wait == 2
    assert not POLICY.decide(REFUSED, [REFUSED, REFUSED]).retry


@pytest.mark.parametrize(
    "outcome",
    [Outcome(Sent.NO_ANSWER), Outcome.answer(502), Outcome.answer(504)],
    ids=["no-answer", "502", "504"],
)
def test_unknown_outcome_is_never_retried(outcome: Outcome) -> None:
    decision = POLICY.decide(outcome)
    assert not decision.retry
    assert "may have accepted" in decision.why


@pytest.mark.parametrize("status", [200, 201, 400, 401, 403, 404, 409, 422, 500])
def test_other_answers_are_final(status: int) -> None:
    assert not POLICY.decide(Outcome.answer(status)).retry


def test_a_request_that_cannot_be_sent_is_final() -> None:
    assert not POLICY.decide(Outcome(Sent.UNSENDABLE)).retry


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(status: int) -> None:
    decision = POLICY.decide(Outcome.answer(status, "7"))
    assert (decision.retry, decision.wait) == (True, 7)
    assert POLICY.decide(Outcome.answer(status, "0")).wait == 0  # "now" is honoured too


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_above_the_cap_gives_up_at_once(status: int) -> None:
    assert POLICY.decide(Outcome.answer(status, "60")).retry
    decision = POLICY.decide(Outcome.answer(status, "61"))
    assert not decision.retry
    assert "too long" in decision.why


@pytest.mark.parametrize("header", [None, "soon", "-5"])
def test_without_a_valid_retry_after_429_and_503_back_off(header: str | None) -> None:
    assert POLICY.decide(Outcome.answer(429, header)).wait == 1
    assert POLICY.decide(Outcome.answer(503, header), [Outcome.answer(429)]).wait == 2


def test_status_and_connect_retries_have_separate_budgets() -> None:
    busy = Outcome.answer(503)
    assert not POLICY.decide(busy, [busy, Outcome.answer(429)]).retry
    assert POLICY.decide(busy, [REFUSED, REFUSED]).retry  # connect retries do not use up status retries
    assert POLICY.decide(REFUSED, [busy, busy]).retry
    assert POLICY.decide(REFUSED, [busy, busy]).wait == 4  # the backoff counts every retry


def test_no_retries() -> None:
    policy = RetryPolicy(max_retries=0)
    assert not policy.decide(REFUSED).retry
    assert not policy.decide(Outcome.answer(429, "1")).retry


def test_rules_compose() -> None:
    never = RetryPolicy(max_retries=3, rules=())
    assert not never.decide(REFUSED).retry
    assert not never.decide(Outcome.answer(503)).retry


def test_pool_is_recycled_before_telesigns_idle_cutoff() -> None:
    assert DEFAULT_POOL_RECYCLE < 499  # Telesign closes keep-alive connections idle for 499 s
