"""The opt-out list as CSV or JSON, for ``airflow-messaging optouts export`` / ``import``. Pure: text in, rows out.

Columns: ``vendor, recipient, source, keyword, created_at, campaign, consent_text``; only ``recipient``
is required (``vendor`` may come from ``--vendor``). JSON is a list of objects with the same keys (or
``{"optouts": [...]}``). A bad file is refused as a whole, with every bad row and field named.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from airflow_provider_messaging.exceptions import FieldError, PayloadValidationError

Format = Literal["csv", "json"]
FIELDS = ("vendor", "recipient", "source", "keyword", "created_at", "campaign", "consent_text")
_LIMITS = {"vendor": 20, "recipient": 320, "source": 32, "keyword": 64, "campaign": 250}
_VENDOR = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class OptOutEntry:
    """One opted-out recipient to import. ``source`` and ``created_at`` keep where and when it was first
    recorded (in the store it came from); without them the import itself is the source and the time."""

    vendor: str
    recipient: str
    source: str | None = None
    keyword: str | None = None
    created_at: datetime | None = None
    campaign: str | None = None
    consent_text: str | None = None


def format_for(path: str | None, given: str | None = None) -> Format:
    """``given`` if set, else from the file name (``.json`` -> json), else csv."""
    if given in ("csv", "json"):
        return given  # type: ignore[return-value]
    return "json" if (path or "").lower().endswith(".json") else "csv"


def dump(rows: Iterable[Mapping[str, Any]], fmt: Format) -> str:
    """The rows (as :meth:`MessageStore.list_opt_outs` returns them) as CSV or JSON text."""
    clean = [{k: row.get(k) for k in FIELDS if k in row} for row in rows]
    if fmt == "json":
        return json.dumps(clean, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(FIELDS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in clean:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def _records(text: str, fmt: Format) -> list[tuple[str, Mapping[str, Any]]]:
    """``(row label, record)`` pairs; labels are ``line N`` (CSV, header is line 1) or the JSON index."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PayloadValidationError("opt-out file", [FieldError("", f"is not valid JSON ({exc.msg})")]) from None
        if isinstance(data, dict) and isinstance(data.get("optouts"), list):
            data = data["optouts"]
        if not isinstance(data, list):
            raise PayloadValidationError("opt-out file", [FieldError("", "must be a JSON list of objects")])
        return [(str(i), item if isinstance(item, dict) else {"_": item}) for i, item in enumerate(data)]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    names = [n.strip().lower() for n in reader.fieldnames or []]
    if "recipient" not in names:
        raise PayloadValidationError(
            "opt-out file", [FieldError("line 1", "the CSV header must name a 'recipient' column")]
        )
    reader.fieldnames = names
    return [(f"line {reader.line_num}", row) for row in reader]


def _text(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    value = str(value).replace("\x00", "").strip()
    return value or None


def parse(text: str, fmt: Format, *, default_vendor: str | None = None) -> list[OptOutEntry]:
    """Entries of an opt-out file; raises PayloadValidationError listing every bad row and field."""
    entries: list[OptOutEntry] = []
    errors: list[FieldError] = []
    for label, record in _records(text, fmt):
        if "_" in record:
            errors.append(FieldError(label, "must be an object with at least 'recipient'"))
            continue
        problems: list[FieldError] = []
        values = {name: _text(record, name) for name in FIELDS}
        vendor = (values["vendor"] or default_vendor or "").lower()
        values["vendor"] = vendor
        if not values["recipient"]:
            problems.append(FieldError(f"{label}.recipient", "'recipient' is required"))
        if not vendor:
            problems.append(FieldError(f"{label}.vendor", "'vendor' is required (or give --vendor)"))
        elif not _VENDOR.match(vendor):
            problems.append(FieldError(f"{label}.vendor", "'vendor' must be a vendor name such as telesign"))
        for name, limit in _LIMITS.items():
            if values[name] and len(values[name] or "") > limit:
                problems.append(FieldError(f"{label}.{name}", f"'{name}' must be at most {limit} characters"))
        created: datetime | None = None
        if values["created_at"]:
            try:
                created = datetime.fromisoformat(str(values["created_at"]).replace("Z", "+00:00"))
            except ValueError:
                problems.append(FieldError(f"{label}.created_at", "'created_at' must be an ISO-8601 date-time"))
            else:
                created = created.replace(tzinfo=timezone.utc) if created.tzinfo is None else created
        if problems:
            errors.extend(problems)
            continue
        entries.append(
            OptOutEntry(
                vendor=vendor,
                recipient=str(values["recipient"]),
                source=values["source"],
                keyword=values["keyword"],
                created_at=created,
                campaign=values["campaign"],
                consent_text=values["consent_text"],
            )
        )
    if errors:
        raise PayloadValidationError("opt-out file", errors)
    return entries
