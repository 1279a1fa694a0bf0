"""A campaign send task in its own process (so the tests can kill it half-way).

Usage: ``campaign_process.py FILE CAMPAIGN_ID [TEXT]``; connection ``campaign`` and the store come from the
environment. Prints the campaign handle on a stdout line starting with ``HANDLE``; exit 0 on success, 3 when the task
failed (the handle then comes from the ``campaign`` XCom).
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any


def main() -> int:
    from airflow.sdk.exceptions import AirflowException

    from airflow_provider_messaging.operators.telesign import TelesignSmsOperator

    file, campaign = sys.argv[1], sys.argv[2]
    text = sys.argv[3] if len(sys.argv) > 3 else "Your order shipped"
    pushed: dict[str, Any] = {}
    ti = SimpleNamespace(dag_id="campaign", task_id="send", run_id="r1", map_index=-1, try_number=1)
    ti.xcom_push = lambda key, value: pushed.__setitem__(key, value)
    operator = TelesignSmsOperator(
        task_id="send",
        telesign_conn_id="campaign",
        recipients_file=file,
        campaign_id=campaign,
        text=text,
        max_concurrency=8,
    )
    try:
        handle = operator.execute({"ti": ti})
    except AirflowException as failed:
        print(f"task failed: {failed}", file=sys.stderr)
        print("HANDLE " + json.dumps(pushed.get("campaign")), flush=True)
        return 3
    print("HANDLE " + json.dumps(handle), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
