"""The sending policy as the ledger applies it, before reserving: send now, wait for a window, or skip."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_messaging.sending.outcomes import Outcome, SendRequest, SendResult
from airflow_provider_messaging.sending.results import intent_of, result_for

if TYPE_CHECKING:
    from airflow_provider_messaging.policies import CapScope, Decision, SendingPolicy
    from airflow_provider_messaging.store import CapGate, MessageStore


class Admission:
    """Decides, per request, what the sending policy allows now, and records the skips it makes.

    Caps are counted twice: here without locks (cheap: enough to skip or wait), and again inside the
    reservation's transaction through the :class:`~airflow_provider_messaging.store.CapGate` this returns.
    """

    def __init__(
        self, store: MessageStore, policy: SendingPolicy | None, clock: Callable[[], datetime], log: Any
    ) -> None:
        self.store = store
        self.policy = policy if policy is not None and not policy.is_empty else None
        self._caps_only = self.policy.model_copy(update={"windows": {}, "max_wait": None}) if self.policy else None
        self.clock = clock
        self.log = log

    def decide(
        self, request: SendRequest, *, now: datetime | None = None, counts: Mapping[CapScope, int] | None = None
    ) -> tuple[Decision, CapGate | None]:
        """The policy's decision for ``request`` (caps counted without locks unless ``counts`` are given)
        and the gate that re-checks the caps inside the reservation. Reserves nothing."""
        from airflow_provider_messaging.policies import RecipientHistory, SendNow, Skip, cap_scopes, decide
        from airflow_provider_messaging.store import CapGate

        policy = self.policy
        if policy is None:
            return SendNow(), None
        now = now or self.clock()
        kind = request.message_type or ""
        scopes = cap_scopes(policy, message_type=kind, vendor=request.vendor, now=now)
        if counts is None:
            counts = self.store.count_recent_sends(request.recipient, scopes, exclude_key=request.key) if scopes else {}
        caps_only = self._caps_only
        assert caps_only is not None

        def verdict(using: SendingPolicy, found: Any) -> Decision:
            history = RecipientHistory(counts=found)
            return decide(
                using, recipient=request.recipient, message_type=kind, now=now, vendor=request.vendor, history=history
            )

        def admit(found: Any) -> str | None:
            # runs inside the reservation's transaction: caps only (the window was checked above)
            held = verdict(caps_only, found)
            return held.reason if isinstance(held, Skip) and held.code == "frequency_cap" else None

        return verdict(policy, counts), (CapGate(tuple(scopes), admit) if scopes else None)

    def chunk_counts(self, chunk: Sequence[SendRequest]) -> tuple[datetime, dict[str, Mapping[CapScope, int]]]:
        """The caps' counts of a whole chunk in one read (per request key); the clock they were read at."""
        from airflow_provider_messaging.policies import cap_scopes

        now = self.clock()
        if self.policy is None or not self.policy.caps:
            return now, {}
        scopes = {
            r.key: cap_scopes(self.policy, message_type=r.message_type or "", vendor=r.vendor, now=now) for r in chunk
        }
        by_recipient: dict[str, list[CapScope]] = {}
        for request in chunk:
            by_recipient.setdefault(request.recipient, []).extend(scopes[request.key])
        wanted = {recipient: list(dict.fromkeys(group)) for recipient, group in by_recipient.items() if group}
        counts = self.store.count_recent_sends_many(wanted, exclude_keys={r.key for r in chunk}) if wanted else {}
        return now, {r.key: {s: counts[r.recipient][s] for s in scopes[r.key]} for r in chunk if scopes[r.key]}

    def hold(
        self, request: SendRequest, decision: Decision, *, key: str | None = None, record: bool = True
    ) -> SendResult:
        """The result of a send the policy holds back (a skip, or a wait for the recipient's window).
        A skip is recorded in the store (a SKIPPED row with its reason); a wait is not: it sends later."""
        from airflow_provider_messaging.policies import Skip, WaitUntil

        if isinstance(decision, WaitUntil):
            result = result_for(request, Outcome.WAITING, error=decision.reason, key=key)
            result.send_at = decision.at
        else:
            assert isinstance(decision, Skip)
            result = result_for(request, Outcome.SKIPPED, error=decision.reason, key=key)
            result.skip_code = decision.code
            if record:
                self.record_skip(request, decision.code, decision.reason, logical_key=key)
        self.log.info("Not sending %s to %s now: %s", request.key, request.recipient, decision.reason)
        return result

    def record_skip(
        self, request: SendRequest, code: str, reason: str, *, logical_key: str | None = None, attempt: int = 0
    ) -> None:
        """Record one skip (a SKIPPED row, "code: reason"; for failover, as step ``attempt`` of the logical key)."""
        try:
            self.store.record_skip(
                intent_of(request),
                code=code,
                reason=reason,
                logical_key=logical_key,
                attempt=attempt if logical_key else None,
            )
        except Exception:  # the skip stands (nothing was sent); only its record is missing
            self.log.exception("Could not record the policy skip of %s", request.key)

    def record_skips(self, held: Sequence[tuple[SendRequest, SendResult]]) -> None:
        """Record a chunk's skips (the policy's and opt-outs) in one transaction."""
        skips = [
            (intent_of(r), res.skip_code or "unknown", res.error or "")
            for r, res in held
            if res.outcome is Outcome.SKIPPED
        ]
        if not skips:
            return
        try:
            self.store.record_skips(skips)
        except Exception:  # the skips stand (nothing was sent); only their records are missing
            self.log.exception("Could not record %d policy skip(s)", len(skips))
