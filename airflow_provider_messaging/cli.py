"""``airflow-messaging``: receiver, sandbox, demo, db upgrade, status, campaign, release, report, preview, optouts."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence

from airflow_provider_messaging import config
from airflow_provider_messaging._stdout import airflow_logs_to_stderr
from airflow_provider_messaging.vendors import vendor_names


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from airflow_provider_messaging.store import MessageStore

    if args.store_url:
        store = MessageStore(args.store_url)
        store.ensure_schema(auto_upgrade=store.sqlite)
        return store
    return config.get_store()


def cmd_receiver(args: argparse.Namespace) -> int:
    import uvicorn

    from airflow_provider_messaging.receiver.app import create_app
    from airflow_provider_messaging.receiver.server import server_config

    app = create_app(store=(lambda: _store(args)))
    uvicorn.Server(
        server_config(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            max_header_bytes=args.max_header_bytes,
            header_timeout=args.header_timeout,
            limit_concurrency=args.limit_concurrency,
        )
    ).run()
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from airflow_provider_messaging.store import MessageStore

    store = MessageStore(args.store_url or config.get_store_url())
    store.upgrade()
    print(f"message store at {store.safe_url} is at the newest schema")
    return 0


_SEND_PROBLEMS = {
    "REJECTED": "the vendor refused it (or could not be reached): nothing was sent",
    "UNKNOWN": "the request may have reached the vendor, the answer did not come back: not re-sent",
    "SKIPPED": "the sending policy skipped it (a frequency cap, a window that never opens): nothing was sent",
}


def cmd_status(args: argparse.Namespace) -> int:
    store = _store(args)
    status = store.get_status(args.message_id)
    if status is None:
        history = store.logical_history(args.message_id)  # the key of a failover send?
        if history:
            if args.json:
                print(json.dumps({"logical_id": args.message_id, "attempts": history}, indent=2))
                return 0
            print(f"failover send {args.message_id}: {len(history)} vendor attempt(s)")
            for a in history:
                print(f"  {a['attempt']}. {a['vendor']:10} {a['send_status']:9} {a['message_id'] or '-'}  {a['state']}")
                if a["error"]:
                    print(f"       {a['error'][:200]}")
            return 0
        from airflow_provider_messaging.receiver.callback_history import describe, implied_status

        orphan = store.callbacks_for(args.message_id)  # callbacks, but no send recorded here
        if orphan:
            found = implied_status(args.message_id, orphan)
            print(json.dumps(found, indent=2) if args.json else "\n".join(describe(found)))
            return 0
        print(f"no message {args.message_id!r} in {store.safe_url}", file=sys.stderr)
        return 1
    callbacks = store.callbacks_for(status.message_id)
    if args.json:
        print(json.dumps({**status.to_dict(), "callbacks": callbacks}, indent=2))
        return 0
    problem = _SEND_PROBLEMS.get(status.send_status or "")
    print(f"{status.vendor} message {status.message_id or '(none: not accepted)'} to {status.recipient}")
    if problem:  # no delivery state to speak of: say what happened to the send, with the vendor's error
        print(f"  send: {status.send_status} - {problem}")
        print(f"  error: {status.error or '(none recorded)'}")
    else:
        print(f"  state: {status.state.value}{' (complete)' if status.complete else ''}")
    print(f"  cascade: {' -> '.join(status.channels)}")
    if status.delivered_channel:
        print(f"  delivered on: {status.delivered_channel}{' (fallback)' if status.fallback_used else ''}")
    for line in status.failure_reasons():
        print(f"  channel {line}")
    print(f"  callbacks: {len(callbacks)}")
    for callback in callbacks:
        print(f"    {callback['received_at']}  {callback['body'][:120]}")
    return 0


def cmd_campaign(args: argparse.Namespace) -> int:
    """A campaign's recipients by send status and its sent messages by delivery state."""
    store = _store(args)
    sends = store.campaign_sends(args.campaign_id)
    if not sends:
        print(f"no campaign {args.campaign_id!r} in {store.safe_url}", file=sys.stderr)
        return 1
    delivery = store.campaign_counts([args.campaign_id])[args.campaign_id].to_dict()
    if args.json:
        print(json.dumps({"campaign_id": args.campaign_id, "sends": sends, "delivery": delivery["by_state"]}, indent=2))
        return 0
    print(f"campaign {args.campaign_id}: {sum(sends.values()):,} recipients recorded")
    print("  sends:    " + ", ".join(f"{k} {v:,}" for k, v in sorted(sends.items())))
    print("  delivery: " + (", ".join(f"{k} {v:,}" for k, v in sorted(delivery["by_state"].items())) or "-"))
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    """Free a stuck key (in flight or unknown outcome) once the vendor shows nothing was sent."""
    store = _store(args)
    before = store.release_send(args.key, note=args.note)
    if before is None:
        print(f"no send under key {args.key!r} in {store.safe_url}", file=sys.stderr)
        return 1
    if before.send_status not in ("RESERVED", "UNKNOWN"):
        print(f"key {args.key!r} is {before.send_status}: nothing to release", file=sys.stderr)
        return 1
    print(f"released {args.key!r} (was {before.send_status}): its next try sends")
    return 0


def cmd_optouts(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.action in ("export", "import"):
        from airflow_provider_messaging.cli_optouts import export_optouts, import_optouts

        return (export_optouts if args.action == "export" else import_optouts)(store, args)
    if args.action == "add":
        added = store.add_opt_out(args.vendor, args.recipient)
        print(("added " if added else "already opted out: ") + args.recipient)
    elif args.action == "remove":
        removed = store.remove_opt_out(args.vendor, args.recipient)
        print(("removed " if removed else "not on the list: ") + args.recipient)
        return 0 if removed else 1
    else:
        rows = store.list_opt_outs(args.vendor)
        if args.json:
            print(json.dumps(rows, indent=2))
        for row in [] if args.json else rows:
            print(f"{row['vendor']:10} {row['recipient']:20} {row['source']:8} {row['created_at']}")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from airflow_provider_messaging.cli_preview import PreviewError, preview_task

    try:
        conf = json.loads(args.conf) if args.conf else {}
        # Airflow's DAG parsing and task logs print to stdout: keep stdout for the result alone
        with contextlib.redirect_stdout(sys.stderr):
            result = preview_task(args.dag_id, args.task_id, conf=conf, dags_folder=args.subdir)
    except (PreviewError, json.JSONDecodeError) as exc:
        print(f"airflow-messaging: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the task's own refusal (invalid rendered input, bad policy): one message
        from airflow_provider_messaging.compat import AirflowException

        if not isinstance(exc, AirflowException):
            raise
        print(f"airflow-messaging: {args.dag_id}.{args.task_id}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    for item in result if isinstance(result, list) else [result]:
        decision = item["decision"]
        when = {"send_now": "now", "wait": f"at {decision.get('until')}", "skip": "never"}[decision["decision"]]
        print(
            f"{item['vendor']} to {item['recipient']}: send {when}"
            + (f" ({decision['reason']})" if "reason" in decision else "")
        )
        for step in item["steps"]:
            print(
                f"  {step['step']}. {step['channel']} {step['content']}: {step['text']!r}"
                if step["text"]
                else f"  {step['step']}. {step['channel']} {step['content']}"
            )
            if step["segments"]:
                seg = step["segments"]
                print(f"     {seg['segments']} SMS segment(s), {seg['encoding']}")
            for line in step["buttons"] + step["media"] + step["warnings"]:
                print(f"     {line}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from airflow_provider_messaging.analytics import report as analytics
    from airflow_provider_messaging.receiver.report_routes import parse_time

    try:
        until = parse_time(args.until)
        since = parse_time(args.since, now=until)
    except ValueError as exc:
        print(f"airflow-messaging: bad time: {exc}", file=sys.stderr)
        return 2
    result = analytics.from_store(_store(args), since, until)
    if args.chart:
        try:
            analytics.render_chart(result, args.chart)
        except ImportError:
            print(
                "airflow-messaging: --chart needs matplotlib: pip install 'airflow-provider-messaging[report]'",
                file=sys.stderr,
            )
            return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(analytics.format_table(result))
        if args.chart:
            print(f"\nchart written to {args.chart}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from airflow_provider_messaging.sandbox.server import main as sandbox_main

    return int(sandbox_main(args.sandbox_args) or 0)


def cmd_demo(args: argparse.Namespace) -> int:
    from airflow_provider_messaging.demo import run_demo

    return run_demo(keep_home=args.keep_home, only=args.only, report_chart=args.report_chart)


# Commands that need no Airflow configuration when given --store-url (they stay fast then).
_STORE_ONLY = ("status", "report", "optouts", "db")
# The demo makes its own AIRFLOW_HOME first, then sends Airflow's logs to stderr itself.
_OWN_AIRFLOW_HOME = ("demo",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-messaging", description=__doc__)
    parser.add_argument("--store-url", help="store URL (default: [messaging] store_url or SQLite in AIRFLOW_HOME)")
    commands = parser.add_subparsers(dest="command", required=True)

    receiver = commands.add_parser("receiver", help="run the callback receiver alone")
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument("--port", type=int, default=8085)
    receiver.add_argument("--log-level", default="info")
    receiver.add_argument(
        "--max-header-bytes", type=int, default=16384, help="largest request head (line + headers), else 400"
    )
    receiver.add_argument(
        "--header-timeout", type=float, default=10.0, help="seconds a client has to send a complete request head"
    )
    receiver.add_argument(
        "--limit-concurrency", type=int, default=256, help="open connections / requests above which 503 is answered"
    )
    receiver.set_defaults(func=cmd_receiver)

    sandbox = commands.add_parser("sandbox", help="run the local emulator of both vendor APIs", add_help=False)
    sandbox.add_argument("sandbox_args", nargs=argparse.REMAINDER)
    sandbox.set_defaults(func=cmd_sandbox)

    demo = commands.add_parser("demo", help="run every example DAG end to end against the sandbox")
    demo.add_argument("--keep-home", action="store_true", help="keep the demo's AIRFLOW_HOME for inspection")
    demo.add_argument("--only", nargs="*", help="run only these example DAG ids")
    demo.add_argument("--report-chart", metavar="PATH", help="print the run's delivery report, chart it to PATH")
    demo.set_defaults(func=cmd_demo)

    db = commands.add_parser("db", help="schema management")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="create or migrate the store schema")
    upgrade.set_defaults(func=cmd_db_upgrade)

    status = commands.add_parser("status", help="a message's state, channel history and callbacks")
    status.add_argument("message_id")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    campaign = commands.add_parser("campaign", help="a campaign's recipients by send status and delivery state")
    campaign.add_argument("campaign_id")
    campaign.add_argument("--json", action="store_true")
    campaign.set_defaults(func=cmd_campaign)

    release = commands.add_parser(
        "release",
        help="let a stuck send key (in flight or unknown outcome) send again, after checking the vendor sent nothing",
    )
    release.add_argument("key", help="the idempotency key (see `status` or the Messages view)")
    release.add_argument("--note", default="released by an operator", help="why (stored with the key)")
    release.set_defaults(func=cmd_release)

    report = commands.add_parser("report", help="delivery analytics of a time window (table, JSON, chart)")
    report.add_argument("--since", default="7d", help="ISO time or span back from --until: 90m, 24h, 7d (default 7d)")
    report.add_argument("--until", default=None, help="ISO time (default: now)")
    report.add_argument("--json", action="store_true")
    report.add_argument("--chart", metavar="PATH", help="also write a chart (.png or .svg; needs matplotlib)")
    report.set_defaults(func=cmd_report)

    preview = commands.add_parser("preview", help="what a send task would send, to whom and when (sends nothing)")
    preview.add_argument("dag_id")
    preview.add_argument("task_id")
    preview.add_argument("--conf", help="run conf as JSON, for templates such as {{ dag_run.conf['phone'] }}")
    preview.add_argument("--subdir", help="DAG file or folder (default: Airflow's dags_folder)")
    preview.add_argument("--json", action="store_true")
    preview.set_defaults(func=cmd_preview)

    optouts = commands.add_parser("optouts", help="list, add, remove, export or import opted-out recipients")
    optouts.add_argument("action", choices=["list", "add", "remove", "export", "import"], nargs="?", default="list")
    optouts.add_argument("recipient", nargs="?", metavar="RECIPIENT|FILE", help="a recipient; for import a file")
    optouts.add_argument("--vendor", default=None, choices=vendor_names(), help="a registered vendor")
    optouts.add_argument("--json", action="store_true")
    optouts.add_argument("--format", choices=["csv", "json"], help="export/import format (default: by file name, csv)")
    optouts.add_argument("--output", "-o", help="export to this file (default: stdout)")
    optouts.set_defaults(func=cmd_optouts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:  # the sandbox has its own options (argparse REMAINDER drops leading flags)
        from airflow_provider_messaging.sandbox.server import main as sandbox_main

        return int(sandbox_main(argv[1:]) or 0)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "action", None) in ("add", "remove") and (not args.recipient or not args.vendor):
        parser.error("optouts add/remove need RECIPIENT and --vendor")
    if not (args.store_url and args.command in _STORE_ONLY) and args.command not in _OWN_AIRFLOW_HOME:
        airflow_logs_to_stderr()
    from airflow_provider_messaging.store import StoreError

    try:
        return int(args.func(args))
    except StoreError as exc:  # database down, schema outdated: one line, not a traceback
        print(f"airflow-messaging: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
