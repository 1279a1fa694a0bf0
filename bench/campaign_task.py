"""One campaign send task in its own process, for ``bench_campaign`` (peak RSS is this process's own).

Usage: ``campaign_task.py FILE CAMPAIGN_ID CONCURRENCY``; the connection ``bench_campaign`` and the store
come from the environment. Prints one JSON line: the handle, seconds, peak RSS and XCom bytes.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from types import SimpleNamespace


def main() -> int:
    from airflow_provider_messaging.operators.telesign import TelesignSmsOperator

    file, campaign, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ti = SimpleNamespace(dag_id="bench", task_id="send", run_id="r", map_index=-1, try_number=1)
    ti.xcom_push = lambda **_: None
    operator = TelesignSmsOperator(
        task_id="send",
        telesign_conn_id="bench_campaign",
        recipients_file=file,
        campaign_id=campaign,
        text="Hi {name}, maintenance tonight 01:00-02:00 UTC.",
        max_concurrency=concurrency,
    )
    started = time.perf_counter()
    handle = operator.execute({"ti": ti})
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"handle": handle, "seconds": seconds, "peak_rss_mb": peak_mb, "xcom_bytes": len(json.dumps(handle))}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
