"""``airflow-messaging optouts export`` / ``import``: the opt-out list as CSV or JSON.

Export writes to ``--output`` or stdout (the data alone; messages go to stderr). Import reads a file
(or ``-`` for stdin), refuses it as a whole when any row is bad, and records each new opt-out with a
consent record (method ``import``) that keeps the original source and time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.store.optout_files import dump, format_for, parse


def export_optouts(store: Any, args: argparse.Namespace) -> int:
    fmt = format_for(args.output, args.format)
    rows = store.list_opt_outs(args.vendor)
    text = dump(rows, fmt)
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"exported {len(rows)} opt-out(s) to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def import_optouts(store: Any, args: argparse.Namespace) -> int:
    source = args.recipient
    if not source:
        print("airflow-messaging: optouts import needs a FILE (or - for stdin)", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except OSError as exc:
        print(f"airflow-messaging: cannot read {source}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        entries = parse(text, format_for(source, args.format), default_vendor=args.vendor)
    except PayloadValidationError as exc:
        print(f"airflow-messaging: {source}: nothing imported. {exc}", file=sys.stderr)
        return 1
    added, existing = store.import_opt_outs(entries)
    if args.json:
        print(json.dumps({"read": len(entries), "added": added, "already_listed": existing}))
    else:
        print(f"imported {added} opt-out(s) from {source}; {existing} already listed")
    return 0
