"""Sensor defaults on a stock Airflow, and how message ids are read from a mapped task's lazy XCom sequence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import pytest

from airflow_provider_messaging.sensors._ids import message_ids_from


def test_sensors_defer_by_default_although_airflow_says_default_deferrable_false() -> None:
    from airflow.sdk import conf

    from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor
    from airflow_provider_messaging.sensors.inbound import InboundMessageSensor

    assert conf.getboolean("operators", "default_deferrable") is False  # what a stock install defines
    assert MessageDeliverySensor(task_id="wait", message_id="m1").deferrable is True
    assert InboundMessageSensor(task_id="reply", phone_number="15551234567").deferrable is True
    poke = MessageDeliverySensor(task_id="poke", message_id="m1", deferrable=False, mode="reschedule")
    assert poke.deferrable is False and poke.mode == "reschedule"


class StrictLazySequence(Sequence[Any]):
    """Like Airflow's LazyXComSequence: every read past the end is a failed request (and an error log)."""

    def __init__(self, items: list[Any]):
        self.items = items
        self.reads_past_end = 0
        self.requests = 0

    def __len__(self) -> int:
        self.requests += 1
        return len(self.items)

    @overload
    def __getitem__(self, key: int) -> Any: ...

    @overload
    def __getitem__(self, key: slice) -> Sequence[Any]: ...

    def __getitem__(self, key: int | slice) -> Any:
        self.requests += 1
        if isinstance(key, slice):
            return self.items[key]
        if key >= len(self.items):
            self.reads_past_end += 1
            raise IndexError(key)
        return self.items[key]


def test_mapped_records_are_read_without_reading_past_the_end() -> None:
    records = StrictLazySequence([{"message_id": "a"}, {"message_id": None}, {"message_id": "c"}])
    assert message_ids_from(records) == ["a", "c"]
    assert records.reads_past_end == 0
    assert records.requests == 2  # the length, then one slice


@pytest.mark.parametrize(
    ("value", "expected"),
    [("m1", ["m1"]), (["m1", {"message_id": "m2"}], ["m1", "m2"]), ({"m1"}, ["m1"]), ('["x", "y"]', ["x", "y"])],
)
def test_other_shapes_still_work(value: Any, expected: list[str]) -> None:
    assert message_ids_from(value) == expected
