"""Campaigns: bulk sends whose cost is bounded by their concurrency, not by their size.

Recipients stream from a list, any iterable, or a file (CSV with a header, or JSON Lines), one
recipient per row with per-recipient template values::

    recipient,name,order
    15558675301,Ada,45390

A row's values fill ``{name}``-style placeholders anywhere in the rendered message (after Airflow's
Jinja rendering, so the two never clash). Per-recipient records go to the store; the task returns a
small handle (:func:`campaign_handle`) that :class:`MessageDeliverySensor` waits on with one aggregate
query per poll. A retry resumes: recipients already sent are found in the store and not sent again.

Split one campaign over several workers with dynamic task mapping; every chunk shares the campaign id::

    TelesignSmsOperator.partial(task_id="send", recipients_file="/data/spring.csv", campaign_id="spring-sale",
                                text="Hi {name}, order {order} shipped").expand(chunk=campaign_chunks(4))
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: columns (or JSON keys) that name the recipient, in order of preference
RECIPIENT_KEYS = ("recipient", "phone_number", "destination", "phone", "to")
#: how many failures the handle lists (the store has them all)
FAILURE_SAMPLE = 20
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class CampaignInputError(ValueError):
    """A recipients source that cannot be read (names the row and the rule)."""


@dataclass(frozen=True)
class Row:
    """One recipient of a campaign: its position in the source, number and template values."""

    index: int
    recipient: str
    values: Mapping[str, str] = field(default_factory=dict)


def campaign_chunks(of: int) -> list[dict[str, int]]:
    """``of`` chunk descriptors to ``.expand(chunk=...)`` over: row ``i`` goes to chunk ``i % of``."""
    if of < 1:
        raise ValueError("campaign_chunks: of must be at least 1")
    return [{"index": i, "of": of} for i in range(of)]


def _row_from(index: int, item: Any) -> Row:
    if isinstance(item, Mapping):
        values = {str(k): "" if v is None else str(v) for k, v in item.items()}
        for key in RECIPIENT_KEYS:
            if values.get(key):
                return Row(index, values.pop(key).strip(), values)
        raise CampaignInputError(f"row {index}: no recipient (one of the keys {', '.join(RECIPIENT_KEYS)})")
    text = str(item).strip()
    if not text:
        raise CampaignInputError(f"row {index}: empty recipient")
    return Row(index, text)


def read_rows(source: str | Path | Iterable[Any]) -> Iterator[Row]:
    """Rows from a file path (``.csv``, ``.jsonl``/``.ndjson``) or an iterable of numbers or dicts, streamed."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise CampaignInputError(f"recipients_file: {path} is not a readable file")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            yield from _csv_rows(path)
        elif suffix in (".jsonl", ".ndjson"):
            yield from _jsonl_rows(path)
        else:
            raise CampaignInputError(f"recipients_file: {path.name}: use .csv (with a header) or .jsonl")
        return
    for index, item in enumerate(source):
        yield _row_from(index, item)


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not set(RECIPIENT_KEYS) & {f.strip() for f in reader.fieldnames}:
            raise CampaignInputError(
                f"recipients_file: {path.name}: the header needs one of {', '.join(RECIPIENT_KEYS)}"
            )
        for index, record in enumerate(reader):
            yield _row_from(index, {k.strip(): v for k, v in record.items() if k is not None})


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as handle:
        index = 0
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise CampaignInputError(f"recipients_file: {path.name} line {number}: not JSON ({exc})") from None
            yield _row_from(index, item)
            index += 1


def count_rows(source: Any) -> int | None:
    """How many rows a source holds, when that is cheap to know (a list, or a file: one fast pass)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        return max(0, lines - (1 if path.suffix.lower() == ".csv" else 0))
    return len(source) if hasattr(source, "__len__") else None


def in_chunk(row: Row, chunk: Mapping[str, Any] | None) -> bool:
    if not chunk:
        return True
    return row.index % int(chunk["of"]) == int(chunk["index"])


def fill(value: Any, values: Mapping[str, str]) -> Any:
    """Replace ``{key}`` placeholders whose key is in ``values`` in every string of ``value`` (others stay)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    return value


@dataclass
class Tally:
    """Counts of a campaign by outcome, a bounded sample of failures, and progress in the task log."""

    campaign_id: str
    vendor: str
    expected: int | None
    log: Any
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _next_report: float = 0.0
    _next_share: float = 0.05

    def add(self, outcome: str, recipient: str, error: str | None = None) -> None:
        self.counts[outcome] += 1
        if error is not None and len(self.failures) < FAILURE_SAMPLE:
            self.failures.append({"recipient": recipient, "outcome": outcome, "error": error[:300]})
        self._maybe_report()

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def _maybe_report(self) -> None:
        now = time.monotonic()
        share = self.done / self.expected if self.expected else None
        if (share is not None and share >= self._next_share) or now >= self._next_report:
            self.report(now)
            self._next_report = now + 15.0
            if share is not None:
                while self._next_share <= share:
                    self._next_share += 0.05

    def report(self, now: float | None = None) -> None:
        elapsed = max(1e-6, (now or time.monotonic()) - self.started)
        rate = self.done / elapsed
        of = f"/{self.expected:,} ({self.done / self.expected:.0%})" if self.expected else ""
        eta = ""
        if self.expected and rate > 0 and self.done < self.expected:
            eta = f", ETA {(self.expected - self.done) / rate:,.0f} s"
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items()))
        self.log.info(
            "Campaign %s: %s%s done (%s); %.0f msg/s%s", self.campaign_id, f"{self.done:,}", of, outcomes, rate, eta
        )


def campaign_handle(tally: Tally, chunk: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The small JSON record a campaign task returns (XCom), whatever the campaign's size."""
    handle: dict[str, Any] = {
        "campaign_id": tally.campaign_id,
        "vendor": tally.vendor,
        "recipients": tally.done,
        "counts": dict(sorted(tally.counts.items())),
        "failures": tally.failures,
        "failures_listed": len(tally.failures),
    }
    if chunk:
        handle["chunk"] = dict(chunk)
    return handle
