"""DAG parse cost: what importing our public modules adds over ``import airflow.sdk``, and the DAG-bag load
of ``example_dags/`` compared with the same DAGs built from ``EmptyOperator``.

Each import is timed in a fresh interpreter (median of 7 runs, interleaved with the baseline), as the
DAG processor pays it. Target: every module a DAG file imports adds <= 50 ms.

Run: ``python bench/bench_parse.py [--quick]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = [
    "airflow_provider_messaging.operators.telesign",
    "airflow_provider_messaging.operators.aerialink",
    "airflow_provider_messaging.operators.failover",
    "airflow_provider_messaging.operators.campaign",
    "airflow_provider_messaging.sensors.delivery",
    "airflow_provider_messaging.sensors.inbound",
    "airflow_provider_messaging.triggers.delivery",
    "airflow_provider_messaging.triggers.inbound",
    "airflow_provider_messaging.triggers.inbound_events",
    "airflow_provider_messaging.notifications.messaging",
]
TIMER = "import time, sys; t=time.perf_counter(); import airflow.sdk; b=time.perf_counter(); {imp}; print(time.perf_counter()-b, b-t)"

EMPTY_DAGS = """
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

for i in range({n}):
    with DAG(f"empty_{{i}}", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")) as dag:
        EmptyOperator(task_id="send") >> EmptyOperator(task_id="wait")
    globals()[dag.dag_id] = dag
"""
DAGBAG = (
    "import time; from airflow.dag_processing.dagbag import DagBag; t=time.perf_counter(); "
    "b=DagBag(dag_folder={folder!r}); "
    "print(time.perf_counter()-t, len(b.dags), len(b.import_errors))"
)


def _time(code: str) -> list[float]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return [float(x) for x in out.stdout.strip().splitlines()[-1].split()[:3]]


def run(quick: bool = False) -> str:
    runs = 2 if quick else 7
    rows = []
    worst = 0.0
    for module in MODULES:
        added = [_time(TIMER.format(imp=f"import {module}"))[0] for _ in range(runs)]
        baseline = [_time(TIMER.format(imp="pass"))[0] for _ in range(runs)]
        extra = (statistics.median(added) - statistics.median(baseline)) * 1000
        worst = max(worst, extra)
        rows.append(f"| `{module.removeprefix('airflow_provider_messaging.')}` | {extra:,.0f} |")
    sdk = statistics.median(_time(TIMER.format(imp="pass"))[1] for _ in range(runs)) * 1000

    examples = ROOT / "example_dags"
    n_dags = len(list(examples.glob("*.py")))
    empty = Path(tempfile.mkdtemp(prefix="bench-parse-"))
    (empty / "empty_dags.py").write_text(EMPTY_DAGS.format(n=n_dags))
    ours = [_time(DAGBAG.format(folder=str(examples))) for _ in range(runs)]
    base = [_time(DAGBAG.format(folder=str(empty))) for _ in range(runs)]
    ours_s, base_s = statistics.median(r[0] for r in ours), statistics.median(r[0] for r in base)
    errors = int(ours[0][2])
    verdict = "met" if worst <= 50 else "NOT met"
    return (
        "## DAG parse cost\n\n"
        f"{__doc__.split(chr(10) + chr(10))[1]}\n\n"
        f"`import airflow.sdk` itself: {sdk:,.0f} ms. Added by each module (median of {runs}):\n\n"
        "| module | ms over `import airflow.sdk` |\n| --- | ---: |\n" + "\n".join(rows) + "\n\n"
        f"Target <= 50 ms for every module: **{verdict}** (worst {worst:,.0f} ms).\n\n"
        f"DagBag of `example_dags/` ({int(ours[0][1])} DAGs, {errors} import errors): {ours_s * 1000:,.0f} ms; "
        f"the same number of DAGs of EmptyOperators: {base_s * 1000:,.0f} ms ({ours_s / base_s:.2f}x).\n"
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
