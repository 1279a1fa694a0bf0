"""Store rules of a logical (failover) message: complete as soon as ANY vendor delivers."""

from __future__ import annotations

from sqlalchemy import update

from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.store import MessageStore
from airflow_provider_messaging.store.schema import messages
from tests.support.store_helpers import complete_send, fail_send, record_delivery, watcher_cursor

SUCCESS = ("DELIVERED", "READ")


def send(store: MessageStore, key: str, attempt: int, vendor: str, message_id: str | None) -> None:
    child = f"{key}#{attempt}:{vendor}"
    common = {"idempotency_key": child, "vendor": vendor, "recipient": "15558675301", "channels": ["rcs"]}
    if not store.reserve_send(**common, logical_key=key, attempt=attempt).send:
        # The ledger lets no second vendor send once one accepted; rows that say so anyway (written by an
        # older version, or by hand) must still read right: link a plain reservation to the logical key.
        assert store.reserve_send(**common).send
        with store.engine.begin() as connection:
            connection.execute(
                update(messages).where(messages.c.idempotency_key == child).values(logical_key=key, attempt=attempt)
            )
    if message_id:
        complete_send(store, child, message_id)
    else:
        fail_send(store, child, "VendorUnavailableError: refused", outcome_unknown=False)


def deliver(store: MessageStore, vendor: str, message_id: str, state: DeliveryState) -> None:
    record_delivery(store, vendor=vendor, message_id=message_id, events=[ChannelEvent("rcs", state)], raw_body="{}")


def test_logical_message_pending_until_a_vendor_delivers(store: MessageStore) -> None:
    send(store, "L1", 0, "telesign", None)
    send(store, "L1", 1, "aerialink", "guid-1")
    assert store.get_settled(["L1"], SUCCESS) == {}
    assert store.get_statuses(["L1"])["L1"].message_id == "guid-1"
    deliver(store, "aerialink", "guid-1", DeliveryState.DELIVERED)
    settled = store.get_settled(["L1"], SUCCESS)
    assert settled["L1"].vendor == "aerialink" and settled["L1"].delivered


def test_any_vendor_delivering_completes_even_if_another_is_pending_or_failed(store: MessageStore) -> None:
    # two vendors both accepted (e.g. resend_unknown): the first failed, the second delivers
    send(store, "L2", 0, "telesign", "ref-2")
    send(store, "L2", 1, "aerialink", "guid-2")
    deliver(store, "telesign", "ref-2", DeliveryState.FAILED)
    assert store.get_settled(["L2"], SUCCESS) == {}  # aerialink still pending
    deliver(store, "aerialink", "guid-2", DeliveryState.DELIVERED)
    assert store.get_settled(["L2"], SUCCESS)["L2"].message_id == "guid-2"
    # pending first, delivered second: complete too
    send(store, "L3", 0, "telesign", "ref-3")
    send(store, "L3", 1, "aerialink", "guid-3")
    deliver(store, "aerialink", "guid-3", DeliveryState.READ)
    assert store.get_settled(["L3"], SUCCESS)["L3"].vendor == "aerialink"


def test_failed_when_every_accepted_vendor_failed(store: MessageStore) -> None:
    send(store, "L4", 0, "telesign", "ref-4")
    send(store, "L4", 1, "aerialink", "guid-4")
    deliver(store, "telesign", "ref-4", DeliveryState.FAILED)
    deliver(store, "aerialink", "guid-4", DeliveryState.FAILED)
    status = store.get_settled(["L4"], SUCCESS)["L4"]
    assert status.complete and status.state is DeliveryState.FAILED


def test_plain_ids_and_logical_keys_in_one_read(store: MessageStore) -> None:
    store.reserve_send(idempotency_key="plain", vendor="telesign", recipient="15558675301", channels=["sms"])
    complete_send(store, "plain", "ref-plain")
    send(store, "L5", 0, "telesign", "ref-5")
    assert set(store.get_statuses(["ref-plain", "L5", "unknown"])) == {"ref-plain", "L5"}


def test_migration_0002_keeps_existing_messages(tmp_path) -> None:
    """A store created at 0001 (before failover and watchers) upgrades in place; old rows still read."""
    from airflow_provider_messaging.store import migrate

    store = MessageStore(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(store.engine, "0001")
    assert not store.schema_is_current()
    from sqlalchemy import text

    with store.engine.begin() as connection:  # a row as 0001 wrote it (no logical_key column yet)
        connection.execute(
            text(
                "INSERT INTO messaging_messages (vendor, message_id, idempotency_key, recipient, channels, send_status,"
                " state, complete, created_at, updated_at) VALUES ('telesign', 'ref-old', 'k-old', '15558675301',"
                " '[\"sms\"]', 'ACCEPTED', 'DELIVERED', 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
    store.upgrade()
    assert store.schema_is_current()
    assert store.get_statuses(["ref-old"])["ref-old"].delivered
    assert store.logical_history("k-old") == []
    assert watcher_cursor(store, "w") is None
    store.dispose()
