"""A relay killed after publishing and before marking: the duplicate is absorbed by the inbox.

Ordering runs with `KillAfterPublish` (tests/reliability/faults.py) around its relay's publisher
and a short lease: its relay SIGKILLs its own process right after
the broker confirmed a message, so that message is on the wire while its outbox row still says
"claimed". Another ordering process takes the row over when the dead relay's lease runs out and
publishes it again - the same message twice. Billing's inbox must acknowledge the second copy
without effect: one invoice, one charge.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time

import httpx
import pytest

from deploy.cluster import ServiceProcess
from tests.reliability.faults import KILLED_AFTER
from tests.reliability.faulty_service import faulty
from tests.reliability.shop import (
    MakeCluster,
    open_accounts,
    place_orders,
    settle_and_check,
    workload,
)
from tests.tokens import auth_headers

pytestmark = [pytest.mark.reliability, pytest.mark.rabbitmq, pytest.mark.slow]

KILL_AFTER = 5
LEASE = "2"
"""Seconds a relay's claim lasts here, so the dead relay's rows are taken over quickly."""
DUPLICATE_ABSORBED = "was processed already; acknowledged without effect"


def test_a_relay_killed_after_publishing_and_before_marking_has_its_duplicate_absorbed_by_the_inbox(
    vhost_url: str, make_cluster: MakeCluster
) -> None:
    shop = workload(orders=20, customers=5)
    cluster = make_cluster(vhost_url)
    billing = cluster.add("billing")
    doomed = cluster.add(
        "ordering",
        entry=faulty("ordering", f"--kill-after-publish={KILL_AFTER}", f"--lease-seconds={LEASE}"),
    )
    cluster.start()
    asyncio.run(open_accounts(billing.url, shop.balances))

    placed = place_until_the_relay_dies(doomed, shop.orders)
    assert doomed.process is not None
    assert doomed.process.returncode == -signal.SIGKILL, doomed.log_text()
    marker = re.search(rf"{KILLED_AFTER} (\S+)", doomed.log_text())
    assert marker is not None, doomed.log_text()
    published_not_marked = marker.group(1)

    # A second ordering process: its relay takes over the dead one's rows, and it takes orders.
    successor = cluster.add("ordering")
    successor.start()  # only this one: cluster.start() would restart the doomed one too
    successor.wait_healthy()
    asyncio.run(place_orders([successor.url], shop.orders[placed:]))

    settle_and_check(cluster, vhost_url, shop.opening_balances, expected_orders=None, timeout=60)
    # The message the dead relay published went out twice; billing applied it once.
    wait_for_log(billing, f"{published_not_marked} {DUPLICATE_ABSORBED}", timeout=15)


def place_until_the_relay_dies(ordering: ServiceProcess, orders: list[dict[str, object]]) -> int:
    """Place orders one by one until the process is gone; returns how many were sent."""
    sent = 0
    for order in orders:
        sent += 1
        try:
            httpx.post(
                f"{ordering.url}/orders", json=order, headers=auth_headers(), timeout=10
            ).raise_for_status()
        except httpx.TransportError:
            break  # the process died while answering: the order may or may not be stored
        if not ordering.is_running():
            break
    deadline = time.monotonic() + 20
    while ordering.is_running():
        assert time.monotonic() < deadline, "the relay never reached the fault"
        time.sleep(0.1)
    return sent


def wait_for_log(process: ServiceProcess, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in process.log_text():
        assert time.monotonic() < deadline, f"{process.name} never logged {text!r}"
        time.sleep(0.2)
