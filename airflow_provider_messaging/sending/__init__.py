"""The send ledger: the one place where a message is sent, at most once per idempotency key.

Every send of this package - an operator, bulk mode, failover, a notifier - goes through
:class:`SendLedger`, which:

1. skips recipients who opted out (unless told not to), and applies the sending policy
   (:mod:`airflow_provider_messaging.policies`): a closed local-time window answers "wait until", a
   reached frequency cap "skip" - nothing is reserved for either;
2. **reserves** the key in the store. The database decides, atomically, whatever the key's state:
   exactly one of several racing callers (a zombie task and its retry, two runs sharing an explicit
   key, several bulk workers) wins; the others get the earlier record or a clear refusal;
3. calls the vendor (the caller's ``send`` function: one hook call);
4. **completes** the key with the vendor's message id, or records the failure as :func:`classify`
   says.

Outcomes (:class:`Outcome`), decided once here and mapped to Airflow once (:func:`raise_for_airflow`):

==============  ==========================================================  ====================
outcome         meaning                                                     Airflow
==============  ==========================================================  ====================
accepted        the vendor took the message now                             success
already_sent    an earlier try did: its record is returned                  success
rejected        the vendor refused it: nothing sent, a retry cannot help   fail, no retry
transient       nothing sent (down, rate-limited): a retry is safe          retry
unknown         may have reached the customer: never re-sent blindly        fail, no retry
in_flight       another try holds the key's lease (it may be sending now)   retry later
skipped         opted out, frequency cap reached, or no window (skip_code)  skipped
waiting         the recipient's window is closed; send at ``send_at``       the operator defers
==============  ==========================================================  ====================

Frequency caps are counted twice: once before reserving (cheap, unlocked: enough to skip or wait) and
again inside the reservation's transaction under a lock on the recipient (:class:`~.store.CapGate`), so
racing workers sending to one recipient count each other and a cap of N lets exactly N through.

A RESERVED key is *leased* (``[messaging] send_lease_seconds``, default 900 s: longer than a hook's
whole retry budget). Within the lease no one sends it again, even with ``resend_unknown=True``; after
it, the key counts as an unknown outcome (its sender died mid-send). ``airflow-messaging release KEY``
frees a stuck key once the vendor's logs show nothing was sent.

Modules: ``outcomes`` (the classification, keys, request/result types, the Airflow mapping), ``ledger`` (the
one-message flow), ``bulk`` (chunked streaming), ``failover`` (ranked vendors under one logical key),
``admission`` (the sending policy's decision) and ``results`` (results that are not a vendor's answer). None
imports the hooks (they are the caller's ``send`` functions) nor, at import time, the store.
"""

from airflow_provider_messaging.sending.ledger import SendLedger
from airflow_provider_messaging.sending.outcomes import (
    Classified,
    FailureKind,
    Limiter,
    Origin,
    Outcome,
    SendRequest,
    SendResult,
    bulk_key,
    classify,
    describe,
    failover_key,
    raise_for_airflow,
    task_key,
)

__all__ = [
    "Classified",
    "FailureKind",
    "Limiter",
    "Origin",
    "Outcome",
    "SendLedger",
    "SendRequest",
    "SendResult",
    "bulk_key",
    "classify",
    "describe",
    "failover_key",
    "raise_for_airflow",
    "task_key",
]
