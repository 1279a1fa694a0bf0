"""When waiting on messages is over, and whether it went well: shared by the delivery sensor and trigger."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_messaging.models.status import DeliveryState, MessageStatus


@dataclass(frozen=True)
class Verdict:
    """Outcome of waiting on one or more messages: ``done`` and, if done, ``success``."""

    done: bool
    success: bool
    reason: str


@dataclass(frozen=True)
class DeliveryCriteria:
    """When waiting on messages is over, and whether it went well (shared by sensor and trigger).

    :param success_states: states that count as delivered (e.g. add ``SENT`` where no receipts exist).
    :param fail_on_fallback: a message delivered only by a fallback channel counts as failed.
    :param match: ``all`` messages must succeed (up to ``min_delivered_ratio``) or ``any`` one suffices.
    :param min_delivered_ratio: with ``match="all"``, the share of messages that must succeed.
    """

    success_states: tuple[str, ...] = ("DELIVERED", "READ")
    fail_on_fallback: bool = False
    match: str = "all"
    min_delivered_ratio: float = 1.0

    def __post_init__(self) -> None:
        if self.match not in ("all", "any"):
            raise ValueError(f"match must be 'all' or 'any', not {self.match!r}")
        if not 0.0 <= self.min_delivered_ratio <= 1.0:
            raise ValueError("min_delivered_ratio must be between 0 and 1")
        unknown = set(self.success_states) - {s.value for s in DeliveryState}
        if unknown:
            raise ValueError(f"unknown success_states {sorted(unknown)}; use {[s.value for s in DeliveryState]}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryCriteria:
        values = dict(data)
        if "success_states" in values:
            values["success_states"] = tuple(values["success_states"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success_states": list(self.success_states),
            "fail_on_fallback": self.fail_on_fallback,
            "match": self.match,
            "min_delivered_ratio": self.min_delivered_ratio,
        }

    def succeeded(self, status: MessageStatus) -> bool:
        if status.state.value not in self.success_states:
            return False
        return not (self.fail_on_fallback and status.fallback_used)

    def settled(self, status: MessageStatus) -> bool:
        return status.complete or status.state.value in self.success_states

    def evaluate(self, message_ids: Sequence[str], statuses: Mapping[str, MessageStatus]) -> Verdict:
        known = [statuses[m] for m in message_ids if m in statuses]
        failed = [s for s in known if self.settled(s) and not self.succeeded(s)]
        ok = sum(self.succeeded(s) for s in known)
        return self.evaluate_counts(len(message_ids), ok, len(failed), lambda: _failure_text(failed))

    def evaluate_counts(self, total: int, ok: int, failed: int, failure_text: Callable[[], str]) -> Verdict:
        """The verdict from counts alone: ``ok`` succeeded and ``failed`` settled unsuccessfully of ``total``."""
        if self.match == "any":
            if ok:
                return Verdict(True, True, f"{ok} of {total} delivered")
            if failed == total:
                return Verdict(True, False, failure_text())
            return Verdict(False, False, f"waiting on {total - failed} of {total}")
        needed = self.min_delivered_ratio * total
        if total - failed < needed - 1e-9:
            return Verdict(True, False, failure_text())
        if ok + failed == total:
            return Verdict(True, True, f"{ok} of {total} delivered")
        return Verdict(False, False, f"{ok} of {total} delivered, waiting on {total - ok - failed}")

    def evaluate_campaign(self, groups: Sequence[tuple[str, bool, bool, int]]) -> Verdict:
        """The verdict for a campaign from its aggregate rows (state, complete, fallback used, count)."""
        total = ok = failed = 0
        by_state: dict[str, int] = {}
        for state, complete, fallback, n in groups:
            total += n
            succeeded = state in self.success_states and not (self.fail_on_fallback and fallback)
            if succeeded:
                ok += n
            elif complete or state in self.success_states:
                failed += n
                by_state[state] = by_state.get(state, 0) + n
        detail = ", ".join(f"{n} {state}" for state, n in sorted(by_state.items()))
        return self.evaluate_counts(
            total, ok, failed, lambda: f"not delivered: {failed} of {total} campaign messages ({detail})"
        )


def _failure_text(failed: Sequence[MessageStatus]) -> str:
    parts = []
    for status in failed[:20]:
        channels = "; ".join(status.failure_reasons()) or status.state.value
        extra = " (delivered only by fallback)" if status.fallback_used else ""
        parts.append(f"{status.vendor} message {status.message_id} to {status.recipient}: {channels}{extra}")
    more = f" (+{len(failed) - 20} more)" if len(failed) > 20 else ""
    return "not delivered: " + " | ".join(parts) + more
