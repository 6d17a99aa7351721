"""Poison on the in-memory broker: the poison table's messages are dead-lettered at their first
delivery, never redelivered (tests/edge/poison.py holds the table; the real broker's twin is
tests/rabbitmq/test_poison_messages.py)."""

from __future__ import annotations

import json

import pytest

from cqrs_ddd_core.adapters.memory.broker import Envelope, InMemoryBroker
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError
from tests.edge.poison import PROBES, TOPIC, PoisonProbe, RecordingConsumer, nested

# The in-memory broker carries what it encoded itself, so a body it cannot decode is not
# something a publisher can send it: that probe is the envelope's own test below.
DECODABLE = [probe for probe in PROBES if "deep" not in probe.name]


@pytest.mark.parametrize("probe", DECODABLE, ids=[probe.name for probe in DECODABLE])
async def test_a_message_no_retry_can_cure_is_dead_lettered_at_its_first_delivery(
    probe: PoisonProbe,
) -> None:
    broker = InMemoryBroker(max_deliveries=5, redelivery_delay=0.001)
    recording = RecordingConsumer(broker, "billing")
    await recording.consumer.start()

    await broker.publish(TOPIC, json.loads(probe.body))
    await broker.drain()

    [letter] = broker.dead_letters("billing")
    assert letter.deliveries == 1
    assert letter.reason.startswith("poison message:")
    assert probe.reason in letter.reason
    assert len(recording.handled) <= 1
    await broker.stop()


def test_a_body_nested_too_deeply_to_decode_is_poison() -> None:
    envelope = Envelope(TOPIC, '{"x":' + nested(100_000) + "}", message_id="m-1")

    with pytest.raises(PoisonMessageError, match="nested too deeply"):
        envelope.payload  # noqa: B018 - decoding is the act under test
