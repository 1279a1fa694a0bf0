"""Retry policy of the hooks: small decisions about one attempt's outcome, for sends that must never be duplicated.

The hook sends each attempt once (its transport never retries), describes what came back as an
:class:`Outcome`, and asks :meth:`RetryPolicy.decide` whether to try again and after how long:

* :func:`connect_error`: nothing was sent (refused, connect timeout, DNS): retry with backoff;
* :func:`unknown_outcome`: the request left and no answer came (read timeout, dropped connection) or a
  gateway answered 502/504: never retry, the vendor may have the message;
* :func:`rate_limited` (429) and :func:`unavailable` (503): retry, honouring ``Retry-After`` up to
  ``max_retry_after`` (above it: give up at once, the error carries ``retry_after``), else backoff;
* anything else (other 4xx, 500, a 2xx, a request that cannot be sent as configured) is final.

Connect errors and 429/503 answers each have ``max_retries`` retries. Backoff starts at the first
retry: ``backoff_factor * 2**(n-1)`` plus up to ``backoff_jitter`` seconds, at most ``backoff_max``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 503})
#: Gateway answers: the vendor behind the gateway may have accepted the message.
UNKNOWN_OUTCOME_STATUSES = frozenset({502, 504})


class Sent(Enum):
    """How far one attempt got."""

    NOTHING = "nothing sent"  # no connection: the vendor cannot have the message
    NO_ANSWER = "sent, no answer"  # read timeout or dropped connection: the vendor may have it
    UNSENDABLE = "cannot be sent"  # bad URL, TLS failure, closed pool: nothing sent, a retry fails alike
    ANSWERED = "answered"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came back with, as far as the policy cares."""

    sent: Sent
    status: int | None = None
    retry_after: float | None = None  # seconds of the answer's ``Retry-After``, if valid

    @classmethod
    def answer(cls, status: int, retry_after: str | None = None) -> Outcome:
        return cls(Sent.ANSWERED, status, retry_after_seconds(retry_after))

    def describe(self) -> str:
        if self.sent is Sent.ANSWERED:
            return f"answered HTTP {self.status}"
        return "could not be reached" if self.sent is Sent.NOTHING else self.sent.value


@dataclass(frozen=True)
class Decision:
    """Try again after ``wait`` seconds, or stop (``retry`` False) for the reason ``why``."""

    retry: bool
    wait: float = 0.0
    why: str = ""


FINAL = Decision(False, why="final answer")

#: One decision: ``None`` when the rule does not apply to this outcome.
Rule = Callable[["RetryPolicy", Outcome, Sequence[Outcome]], "Decision | None"]


def connect_error(policy: RetryPolicy, outcome: Outcome, history: Sequence[Outcome]) -> Decision | None:
    """Nothing was sent: retrying cannot duplicate the message."""
    if outcome.sent is not Sent.NOTHING:
        return None
    if sum(o.sent is Sent.NOTHING for o in history) >= policy.max_retries:
        return Decision(False, why="connect retries used up")
    return Decision(True, policy.backoff(len(history) + 1), "nothing was sent")


def unknown_outcome(policy: RetryPolicy, outcome: Outcome, history: Sequence[Outcome]) -> Decision | None:
    """The request left and the answer is lost or a gateway's: a second POST could text the customer twice."""
    if outcome.sent is Sent.NO_ANSWER or outcome.status in UNKNOWN_OUTCOME_STATUSES:
        return Decision(False, why="the vendor may have accepted it")
    return None


def rate_limited(policy: RetryPolicy, outcome: Outcome, history: Sequence[Outcome]) -> Decision | None:
    """429: not accepted; wait as told (or back off) and try again."""
    return _busy(policy, outcome, history) if outcome.status == 429 else None


def unavailable(policy: RetryPolicy, outcome: Outcome, history: Sequence[Outcome]) -> Decision | None:
    """503: not accepted; back off (or wait as told) and try again."""
    return _busy(policy, outcome, history) if outcome.status == 503 else None


def _busy(policy: RetryPolicy, outcome: Outcome, history: Sequence[Outcome]) -> Decision:
    if sum(o.status in RETRY_STATUSES for o in history) >= policy.max_retries:
        return Decision(False, why="retries used up")
    wait = outcome.retry_after
    if wait is None:
        return Decision(True, policy.backoff(len(history) + 1), "backoff")
    if wait > policy.max_retry_after:  # not slept on the worker: the error says when to come back
        return Decision(False, why=f"Retry-After {wait:g}s is too long to wait")
    return Decision(True, wait, "Retry-After")


RULES: tuple[Rule, ...] = (connect_error, unknown_outcome, rate_limited, unavailable)


@dataclass(frozen=True)
class RetryPolicy:
    """When to send an attempt again (see the module docstring); the first rule that applies decides."""

    max_retries: int = 3
    backoff_factor: float = 0.5
    backoff_jitter: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    rules: tuple[Rule, ...] = RULES

    def decide(self, outcome: Outcome, history: Sequence[Outcome] = ()) -> Decision:
        """Retry after ``outcome``? ``history``: the outcomes of the earlier attempts of this request."""
        for rule in self.rules:
            decision = rule(self, outcome, history)
            if decision is not None:
                return decision
        return FINAL

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first) without ``Retry-After``."""
        if retry < 1:
            return 0.0
        value = self.backoff_factor * (2 ** (retry - 1)) + random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header (delta-seconds or HTTP date); None when absent or invalid."""
    if not value:
        return None
    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None
