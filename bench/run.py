"""Run every benchmark (``bench/bench_*.py``) and write ``bench/RESULTS.md``.

Usage: ``python bench/run.py [--quick] [--only hooks receiver ...]``. Each module's ``run(quick)`` returns a
Markdown section whose figures are compared with a baseline measured in the same run (ratios, because the
machine is noisy).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (CI smoke)")
    parser.add_argument("--only", nargs="*", help="benchmark names, e.g. hooks receiver")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n in args.only]
    sections = []
    for name in names:
        started = time.monotonic()
        print(f"==> bench {name}", flush=True)
        module = importlib.import_module(f"bench_{name}")
        section = module.run(quick=args.quick)
        print(section, flush=True)
        sections.append(section.rstrip() + f"\n\n_({time.monotonic() - started:.0f} s)_\n")
    header = (
        "# Benchmark results\n\n"
        f"Recorded {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `scripts/bench.sh{' --quick' if args.quick else ''}` "
        f"on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Every figure is compared with a baseline measured in the same run.\n"
    )
    if not args.only:
        Path(args.output).write_text(header + "\n" + "\n".join(sections))
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
