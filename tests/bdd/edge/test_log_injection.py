"""Scenarios: features/edge/log_injection.feature.

The log is the host's real handler (`log_handler`, the one `configure_logging` installs)
writing into a buffer; the records come from the real notification log and the real
in-memory broker. Values in the feature are written with Python escapes (``\\n``) and
decoded here, so the steps send real control characters.
"""

from __future__ import annotations

import codecs
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.host.logs import log_handler
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.cqrs.publishers.notifications import NotificationLog
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError
from tests.conftest import Run

scenarios("edge/log_injection.feature")


def unescape(text: str) -> str:
    """``text`` as written in the feature (``\\n``, ``\\x1b``) with its escapes decoded."""
    return codecs.decode(text, "unicode_escape")


@dataclass
class ServiceLog:
    buffer: io.StringIO = field(default_factory=io.StringIO)

    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()


@pytest.fixture
def service_log() -> Iterator[ServiceLog]:
    log = ServiceLog()
    handler = log_handler(log.buffer)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield log
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


@given("the service's log, written as a running service writes it")
def given_the_log(service_log: ServiceLog) -> None:
    assert service_log.lines() == []


@when(parsers.parse('the notification log receives an order confirmation for the customer "{who}"'))
def notification_for(run: Run, who: str) -> None:
    payload = {"event_type": "OrderConfirmed", "order_id": "order-1", "customer_id": unescape(who)}
    run(NotificationLog().handle, payload)


@when(parsers.parse('a message with the id "{message_id}" is dead-lettered as poison'))
def dead_letter(run: Run, message_id: str) -> None:
    async def scenario() -> None:
        broker = InMemoryBroker()

        async def refuse(_: dict[str, Any]) -> None:
            raise PoisonMessageError("not a message this consumer understands")

        await broker.subscribe("OrderCreated", refuse, "billing")
        await broker.publish(
            "OrderCreated", {"event_type": "OrderCreated"}, message_id=unescape(message_id)
        )
        await broker.drain()
        await broker.stop()
        assert len(broker.dead_letters("billing")) == 1

    run(scenario)


@then("the log holds exactly one line")
def one_line(service_log: ServiceLog) -> None:
    assert len(service_log.lines()) == 1, service_log.lines()


@then(parsers.parse('that line shows the customer as "{shown}"'))
def shows_customer(service_log: ServiceLog, shown: str) -> None:
    [line] = service_log.lines()
    assert f"customer_id={unescape(shown)}" in line
    assert "\x1b" not in line


@then(parsers.parse('that line shows the message id as "{shown}"'))
def shows_message_id(service_log: ServiceLog, shown: str) -> None:
    [line] = service_log.lines()
    assert f"message {unescape(shown)} " in line
    assert "\x1b" not in line
