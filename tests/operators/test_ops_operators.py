"""Every send operator in a real DAG run (``dag.test()``) against a real local HTTP server.

The body the server received must equal the vendor-doc example, with Basic auth, and the operator's
XCom must be the normalized record. Templated fields render from params and from an upstream XCom.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.operators.ops_support import AERIALINK_AUTH, TELESIGN_AUTH, Env, recipient_of, rows
from tests.support.dag_runner import run_dag, states, ti_of, xcom
from tests.support.waiting import wait_for
from tests.vendor_examples import load

FILE = "ops_send.py"

#: task id -> (vendor, vendor example the body must equal, cascade)
OPERATORS = {
    "call_button": ("telesign", "telesign_call_button_request", ["rcs", "sms"]),
    "link_button": ("telesign", "telesign_link_button_request", ["rcs", "sms"]),
    "whatsapp_file": ("telesign", "telesign_whatsapp_file_request", ["whatsapp", "sms"]),
    "send": ("telesign", "telesign_link_button_request", ["rcs", "sms"]),
    "sms": ("telesign", None, ["sms"]),
    "rcs_text": ("aerialink", "aerialink_rcs_text", ["rcs", "sms"]),
    "rcs_media": ("aerialink", "aerialink_rcs_media", ["rcs", "mms"]),
    "rcs_card": ("aerialink", "aerialink_rcs_card", ["rcs", "mms"]),
    "rcs_carousel": ("aerialink", "aerialink_rcs_carousel", ["rcs", "mms"]),
}


@pytest.fixture(scope="module")
def operators_run(airflow_db, tmp_path_factory):
    """One run of ``ops_operators`` (nine operators in parallel), shared by the per-operator checks."""
    from airflow_provider_messaging.store import MessageStore
    from tests.operators.ops_support import make_env
    from tests.support.http_server import LocalHttpServer

    store = MessageStore(f"sqlite:///{tmp_path_factory.mktemp('ops') / 'store.db'}")
    store.upgrade()
    with pytest.MonkeyPatch.context() as monkeypatch, LocalHttpServer() as server:
        for env in make_env(server, store, monkeypatch, tmp_path_factory.mktemp("ops-log")):
            for task_id, (vendor, _, _) in OPERATORS.items():
                env.vendor.connect(f"ops_{task_id}", vendor)
            dag_run = run_dag("ops_operators", FILE)
            yield env, dag_run
    store.dispose()


def test_every_operator_task_succeeds(operators_run: tuple[Env, Any]) -> None:
    env, dag_run = operators_run
    assert states(dag_run) == {"lookup": ("success", 1), **{t: ("success", 1) for t in OPERATORS}}
    assert len(env.vendor.sends()) == len(OPERATORS)


@pytest.mark.parametrize("task_id", list(OPERATORS))
def test_operator_sends_vendor_example(operators_run: tuple[Env, Any], task_id: str) -> None:
    env, dag_run = operators_run
    vendor, example, channels = OPERATORS[task_id]
    [request] = env.vendor.sends(f"ops_{task_id}")
    assert request.method == "POST"
    assert request.path == f"/ops_{task_id}" + ("/v1/omnichannel" if vendor == "telesign" else "/v5/messages")
    assert request.headers["authorization"] == (TELESIGN_AUTH if vendor == "telesign" else AERIALINK_AUTH)
    assert request.headers["content-type"] == "application/json"
    if example is not None:
        assert request.json() == load(example)
    else:  # plain SMS: no vendor example; the upstream XCom rendered into the text
        assert request.json() == {
            "channels": [{"channel": "sms"}],
            "phone_number": "15558675309",
            "message": {"sms": {"template": "text", "parameters": {"text": "Order #45390 shipped."}}},
            "message_type": "ARN",
        }

    record = xcom(dag_run, task_id)
    key = f"ops_operators/{task_id}/{dag_run.run_id}/-1"
    assert record == {
        "vendor": vendor,
        "message_id": record["message_id"],
        "recipient": recipient_of(request),
        "idempotency_key": key,
        "status": "QUEUED",
        "outcome": "accepted",
        "channels": channels,
        "error": None,
    }
    [row] = rows(env.store, idempotency_key=key)
    assert row["message_id"] == record["message_id"] and row["message_id"]
    assert row["send_status"] == "ACCEPTED"
    assert row["channels"] == channels
    assert (row["dag_id"], row["task_id"], row["run_id"]) == ("ops_operators", task_id, dag_run.run_id)


def test_message_ids_are_the_vendors(operators_run: tuple[Env, Any]) -> None:
    """Each XCom message id is the reference_id / messageGUID the server answered, none reused."""
    env, dag_run = operators_run
    ids = {xcom(dag_run, task_id)["message_id"] for task_id in OPERATORS}
    assert len(ids) == len(OPERATORS)
    assert {r["message_id"] for r in rows(env.store)} == ids


# ---- invalid rendered input -------------------------------------------------------------------------

INVALID = [
    # (task, run conf, field path in the error)
    ("card", {"choice_title": "A" * 26}, "choices.1.title"),
    ("link", {"url": "not a url"}, "message.rcs.parameters.url"),
    ("sms", {"phone": "12345"}, "phone_number"),
]


def test_invalid_rendered_input_fails_fast_without_requests(env: Env) -> None:
    """Rendered values are validated before any HTTP call; AirflowFailException: no retry despite retries=2."""
    env.vendor.connect("ops_invalid", "telesign")
    conf = {k: v for _, c, _ in INVALID for k, v in c.items()}
    dag_run = run_dag("ops_invalid", FILE, **conf)

    assert dag_run.state == "failed"
    assert env.vendor.server.requests == []
    assert rows(env.store) == []
    for task_id, _, path in INVALID:
        ti = ti_of(dag_run, task_id)
        assert (ti.state, ti.try_number, ti.max_tries) == ("failed", 1, 2), task_id
        [failure] = env.failures.entries(task_id)
        assert failure["type"] == "AirflowFailException"
        assert path in failure["error"], failure["error"]


# ---- opt-outs -------------------------------------------------------------------------------------


def test_opted_out_recipient_is_skipped(env: Env) -> None:
    env.vendor.connect("ops_optout", "telesign")
    env.vendor.connect("ops_optout_rcs", "aerialink")
    env.store.add_opt_out("telesign", "15558675301")

    dag_run = run_dag("ops_optout", "ops_send.py", phone="15558675301")

    assert states(dag_run) == {"send": ("skipped", 1), "send_anyway": ("success", 1), "rcs": ("success", 1)}
    # opt-outs are per vendor: the Aerialink message still goes; respect_opt_out=False sends too
    assert env.vendor.per_recipient("ops_optout") == {"15558675301": 1}
    [sent] = env.vendor.sends("ops_optout")
    assert sent.json()["message"]["sms"]["parameters"]["text"] == "Account security notice"
    assert len(env.vendor.sends("ops_optout_rcs")) == 1
    assert sorted(r["task_id"] for r in rows(env.store, send_status="ACCEPTED")) == ["rcs", "send_anyway"]
    [skipped] = rows(env.store, task_id="send")  # the skip is recorded (the report counts it), nothing sent
    assert skipped["send_status"] == "SKIPPED" and skipped["message_id"] is None
    assert skipped["error"] == "opted_out: 15558675301 opted out of telesign messages (STOP)"


# ---- dynamic task mapping -------------------------------------------------------------------------


def test_mapped_task_sends_one_message_per_recipient(env: Env) -> None:
    numbers = ["15558675301", "15558675311", "15558675321", "15558675331"]  # MAPPED_NUMBERS of the DAG
    env.vendor.connect("ops_mapped", "telesign")

    dag_run = run_dag("ops_mapped", FILE)

    assert states(dag_run) == {f"send[{i}]": ("success", 1) for i in range(len(numbers))}
    assert env.vendor.per_recipient() == dict.fromkeys(numbers, 1)
    records = [xcom(dag_run, "send", map_index=i) for i in range(len(numbers))]
    assert [r["recipient"] for r in records] == numbers
    assert [r["idempotency_key"] for r in records] == [
        f"ops_mapped/send/{dag_run.run_id}/{i}" for i in range(len(numbers))
    ]
    assert len({r["message_id"] for r in records}) == len(numbers)
    texts = {r.json()["message"]["sms"]["parameters"]["text"] for r in env.vendor.sends()}
    assert texts == {f"Statement for {dag_run.logical_date:%Y-%m-%d} is ready"}


@pytest.mark.parametrize(("vendor", "channel"), [("telesign", "sms"), ("aerialink", "rcs")])
def test_stop_received_through_the_stack_opts_out(
    local_stack, monkeypatch: pytest.MonkeyPatch, tmp_path, vendor: str, channel: str
) -> None:
    """A STOP posted by the sandbox to the receiver lands in the store; the next send is skipped."""

    from tests.operators.ops_support import make_env
    from tests.support.http_server import LocalHttpServer

    phone = "15558675341"
    local_stack.inject_inbound(vendor=vendor, channel=channel, phone_number=phone, action="stop")
    wait_for(lambda: local_stack.store.is_opted_out(vendor, phone), 10, "the STOP to reach the store")

    with LocalHttpServer() as server:
        for env in make_env(server, local_stack.store, monkeypatch, tmp_path):
            env.vendor.connect("ops_optout", "telesign")
            env.vendor.connect("ops_optout_rcs", "aerialink")
            dag_run = run_dag("ops_optout", FILE, phone=phone)
            skipped = "send" if vendor == "telesign" else "rcs"
            sent = "rcs" if vendor == "telesign" else "send"
            assert ti_of(dag_run, skipped).state == "skipped"
            assert ti_of(dag_run, sent).state == "success"
            assert ti_of(dag_run, "send_anyway").state == "success"  # respect_opt_out=False
            assert env.vendor.per_recipient() == {phone: 2}
            [row] = rows(env.store, task_id=skipped)  # recorded as skipped, with why: nothing was sent
            assert row["send_status"] == "SKIPPED" and row["message_id"] is None
            assert row["error"].startswith("opted_out: ")
