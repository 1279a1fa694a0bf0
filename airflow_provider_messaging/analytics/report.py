"""Delivery analytics over a time window: pure functions of store rows (no I/O, no Airflow).

Definitions (the window selects messages by ``created_at`` and inbound messages by their store time):

- **sent**: vendor messages the vendor accepted (``send_status`` ACCEPTED); ``send_failures`` counts the
  refused or unknown-outcome ones, which are left out of every rate.
- **skipped by policy**: sends the sending policy skipped (``send_status`` SKIPPED), by reason
  (``frequency_cap``, ``window_unreachable``, ``opted_out``: the recipient is on the opt-out list); never
  sent, left out of every rate and of ``send_failures``.
- **delivered**: state DELIVERED or READ; **failed**: complete without delivery; **pending**: the rest.
- **delivery rate** = delivered / sent.
- **fallback rate** = messages whose FIRST channel failed (FAILED/EXPIRED) and a LATER channel of the
  same message delivered, / sent.
- **time to deliver**: ``completed_at - created_at`` of delivered messages (both our clock), percentiles by
  the nearest-rank method (p-th percentile = the ceil(p/100 * n)-th smallest value).
- **reply rate** = distinct messaged recipients who sent any inbound message in the window / distinct
  messaged recipients; **opt-out rate** = the same with a STOP keyword.
- **vendor failovers**: failover sends (``logical_key``) that a later-ranked vendor took.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_messaging.models.types import normalize_recipient

SUCCESS = frozenset({"DELIVERED", "READ"})
FAILURE = frozenset({"FAILED", "EXPIRED"})
PERCENTILES = (50, 90, 95, 99)


@dataclass
class Group:
    """Figures of one (vendor, first channel) group."""

    vendor: str
    channel: str
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    fallback: int = 0
    delivered_on: dict[str, int] = field(default_factory=dict)

    @property
    def delivery_rate(self) -> float | None:
        return _rate(self.delivered, self.sent)

    @property
    def fallback_rate(self) -> float | None:
        return _rate(self.fallback, self.sent)


@dataclass
class Report:
    since: datetime | None
    until: datetime | None
    sent: int
    send_failures: int
    delivered: int
    failed: int
    pending: int
    fallback: int
    groups: list[Group]
    time_to_deliver_s: dict[str, float | None]
    recipients: int
    replied: int
    opted_out: int
    logical_sends: int
    vendor_failovers: int
    skipped_by_policy: dict[str, int] = field(default_factory=dict)  # skip code -> sends the policy skipped

    @property
    def delivery_rate(self) -> float | None:
        return _rate(self.delivered, self.sent)

    @property
    def fallback_rate(self) -> float | None:
        return _rate(self.fallback, self.sent)

    @property
    def reply_rate(self) -> float | None:
        return _rate(self.replied, self.recipients)

    @property
    def opt_out_rate(self) -> float | None:
        return _rate(self.opted_out, self.recipients)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``report --json``, the receiver's ``/report``)."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "sent": self.sent,
            "send_failures": self.send_failures,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self.pending,
            "fallback": self.fallback,
            "delivery_rate": self.delivery_rate,
            "fallback_rate": self.fallback_rate,
            "time_to_deliver_s": dict(self.time_to_deliver_s),
            "recipients": self.recipients,
            "replied": self.replied,
            "reply_rate": self.reply_rate,
            "opted_out": self.opted_out,
            "opt_out_rate": self.opt_out_rate,
            "logical_sends": self.logical_sends,
            "vendor_failovers": self.vendor_failovers,
            "skipped_by_policy": dict(self.skipped_by_policy),
            "by_vendor_channel": [
                {**asdict(g), "delivery_rate": g.delivery_rate, "fallback_rate": g.fallback_rate} for g in self.groups
            ],
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (no interpolation): exact and reproducible; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _first_channel_failed(row: Mapping[str, Any]) -> bool:
    channels = list(row.get("channels") or [])
    if not channels:
        return False
    for attempt in row.get("attempts") or []:
        if attempt.get("channel") == channels[0]:
            return attempt.get("state") in FAILURE
    return False


def _inbound_fields(item: Any) -> tuple[str, str | None]:
    if isinstance(item, Mapping):
        return str(item["sender"]), item.get("action")
    return str(item.sender), item.action


def compute(
    messages: Iterable[Mapping[str, Any]],
    inbound: Iterable[Any] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """The report of these message rows (``MessageStore.messages_between``) and inbound records."""
    groups: dict[tuple[str, str], Group] = {}
    totals = {"sent": 0, "send_failures": 0, "delivered": 0, "failed": 0, "pending": 0, "fallback": 0}
    durations: list[float] = []
    recipients: set[str] = set()
    logical: dict[str, list[tuple[int, str]]] = {}
    skipped: dict[str, int] = {}
    for row in messages:
        if row["send_status"] == "SKIPPED":  # error: "code: reason" (store.skip_error)
            code = (row.get("error") or "").partition(": ")[0] or "unknown"
            skipped[code] = skipped.get(code, 0) + 1
            continue
        if row.get("logical_key"):
            logical.setdefault(row["logical_key"], []).append((row.get("attempt") or 0, row["send_status"]))
        if row["send_status"] != "ACCEPTED":
            totals["send_failures"] += 1
            continue
        channels = list(row.get("channels") or [])
        group = groups.setdefault(
            (row["vendor"], channels[0] if channels else "?"),
            Group(row["vendor"], channels[0] if channels else "?"),
        )
        recipients.add(normalize_recipient(row["recipient"]))
        group.sent += 1
        totals["sent"] += 1
        if row["state"] in SUCCESS:
            group.delivered += 1
            totals["delivered"] += 1
            channel = row.get("delivered_channel") or "?"
            group.delivered_on[channel] = group.delivered_on.get(channel, 0) + 1
            if channel != (channels[0] if channels else None) and _first_channel_failed(row):
                group.fallback += 1
                totals["fallback"] += 1
            if row.get("completed_at") and row.get("created_at"):
                durations.append((row["completed_at"] - row["created_at"]).total_seconds())
        elif row.get("complete"):
            group.failed += 1
            totals["failed"] += 1
        else:
            group.pending += 1
            totals["pending"] += 1
    replied: set[str] = set()
    opted_out: set[str] = set()
    for item in inbound:
        sender, action = _inbound_fields(item)
        sender = normalize_recipient(sender)
        if sender in recipients:
            replied.add(sender)
            if action == "stop":
                opted_out.add(sender)
    failovers = sum(
        1 for tries in logical.values() if any(attempt > 0 and status == "ACCEPTED" for attempt, status in tries)
    )
    return Report(
        since=since,
        until=until,
        groups=sorted(groups.values(), key=lambda g: (g.vendor, g.channel)),
        time_to_deliver_s={f"p{p}": percentile(durations, p) for p in PERCENTILES},
        recipients=len(recipients),
        replied=len(replied),
        opted_out=len(opted_out),
        logical_sends=len(logical),
        vendor_failovers=failovers,
        skipped_by_policy=dict(sorted(skipped.items())),
        **totals,
    )


def from_store(store: Any, since: datetime | None, until: datetime | None) -> Report:
    """Read the window from a :class:`MessageStore` and compute its report."""
    return compute(store.messages_between(since, until), store.inbound_between(since, until), since=since, until=until)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def format_table(report: Report) -> str:
    """The report as a terminal table."""
    window = f"{report.since.isoformat() if report.since else 'beginning'} .. {report.until.isoformat() if report.until else 'now'}"
    header = f"{'vendor':10} {'channel':9} {'sent':>6} {'deliv.':>6} {'failed':>6} {'pend.':>6} {'rate':>7} {'fallbk':>7}  delivered on"
    lines = [f"Delivery report {window}", "", header, "-" * len(header)]
    for g in report.groups:
        on = ", ".join(f"{c} {n}" for c, n in sorted(g.delivered_on.items()))
        lines.append(
            f"{g.vendor:10} {g.channel:9} {g.sent:6d} {g.delivered:6d} {g.failed:6d} {g.pending:6d} "
            f"{_pct(g.delivery_rate):>7} {_pct(g.fallback_rate):>7}  {on}"
        )
    lines.append("-" * len(header))
    lines.append(
        f"{'total':20} {report.sent:6d} {report.delivered:6d} {report.failed:6d} {report.pending:6d} "
        f"{_pct(report.delivery_rate):>7} {_pct(report.fallback_rate):>7}"
    )
    ttd = report.time_to_deliver_s
    lines += [
        "",
        "time to deliver: " + "  ".join(f"{k} {_secs(v)}" for k, v in ttd.items()),
        f"recipients: {report.recipients}   reply rate: {_pct(report.reply_rate)} ({report.replied})   "
        f"opt-out rate: {_pct(report.opt_out_rate)} ({report.opted_out})",
        f"sends not taken by the vendor: {report.send_failures}   "
        f"vendor failovers: {report.vendor_failovers} of {report.logical_sends} failover sends",
        f"skipped by policy: {sum(report.skipped_by_policy.values())}"
        + "".join(f"   {code.replace('_', ' ')}: {n}" for code, n in report.skipped_by_policy.items()),
    ]
    return "\n".join(lines)


def render_chart(report: Report, path: str) -> str:
    """Write a PNG or SVG chart (by the file's extension) of the report; matplotlib is imported here only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    labels = [f"{g.vendor}\n{g.channel}" for g in report.groups] or ["(none)"]
    delivered_first = [g.delivered - g.fallback for g in report.groups] or [0]
    fallback = [g.fallback for g in report.groups] or [0]
    failed = [g.failed for g in report.groups] or [0]
    pending = [g.pending for g in report.groups] or [0]
    x = range(len(labels))
    bottom: list[float] = [0.0] * len(labels)
    for values, name, color in (
        (delivered_first, "delivered (first channel)", "#2e7d32"),
        (fallback, "delivered by fallback", "#9ccc65"),
        (failed, "failed", "#c62828"),
        (pending, "pending", "#bdbdbd"),
    ):
        left.bar(x, values, bottom=bottom, label=name, color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, g in enumerate(report.groups):
        left.annotate(_pct(g.delivery_rate), (i, bottom[i]), ha="center", va="bottom", fontsize=9)
    left.set_ylim(0, max([*bottom, 1.0]) * 1.15)  # room for the rate labels
    left.set_xticks(list(x), labels)
    left.set_ylabel("messages")
    left.set_title("Messages by vendor and first channel")
    left.legend(fontsize=8, loc="upper left")
    rates = {
        "delivery": report.delivery_rate,
        "fallback": report.fallback_rate,
        "reply": report.reply_rate,
        "opt-out": report.opt_out_rate,
    }
    names = list(rates)
    percents = [100 * (rates[n] or 0.0) for n in names]
    right.barh(names, percents, color=["#2e7d32", "#9ccc65", "#1565c0", "#c62828"])
    for i, v in enumerate(percents):
        right.annotate(f"{v:.1f}%", (v, i), va="center", fontsize=9, xytext=(3, 0), textcoords="offset points")
    right.set_xlim(0, 110)
    right.invert_yaxis()
    ttd = "  ".join(f"{k} {_secs(v)}" for k, v in report.time_to_deliver_s.items())
    right.set_title("Rates (% of sent / of recipients)")
    right.set_xlabel(f"time to deliver: {ttd}", fontsize=8)
    fig.suptitle(f"Delivery report: {report.sent} messages, {report.recipients} recipients")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
