"""The fault switches are off unless a ``FAULT_`` variable is set, and then cost nothing.

Unset, each service wires the very object it would wire without faults.py - no wrapper, no
check per message - so production pays nothing for the suite's switches.
"""

from __future__ import annotations

from typing import Any

import pytest

from billing_service import faults as billing_faults
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from ordering_service import faults as ordering_faults

pytestmark = pytest.mark.reliability


class Bus(ICommandBus):
    async def send(self, message: Any) -> Any:
        return message


class Publisher(IMessagePublisher):
    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        return None


def test_without_fault_variables_the_services_wire_their_own_objects_untouched() -> None:
    bus, publisher = Bus(), Publisher()
    assert billing_faults.payment_bus(bus, env={}) is bus
    assert ordering_faults.relay_publisher(publisher, env={}) is publisher
    assert ordering_faults.relay_options(env={}) == {}


def test_a_fault_variable_wraps_what_it_breaks() -> None:
    bus, publisher = Bus(), Publisher()
    assert billing_faults.payment_bus(bus, env={"FAULT_CHARGE_TWICE": "1"}) is not bus
    assert billing_faults.payment_bus(bus, env={"FAULT_PAYMENT_DELAY": "2"}) is not bus
    wrapped = ordering_faults.relay_publisher(publisher, env={"FAULT_KILL_AFTER_PUBLISH": "3"})
    assert wrapped is not publisher
    assert ordering_faults.relay_options(env={"FAULT_RELAY_LEASE_SECONDS": "2"}) == {
        "lease_seconds": 2.0
    }
