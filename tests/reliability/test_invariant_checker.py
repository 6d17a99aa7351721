"""The invariant check can fail: it catches a double charge.

Every other test of this suite ends with `check_invariants` passing - which proves nothing if
the check cannot fail. Here billing runs with a `FaultyPaymentBus` that charges twice: after
paying an invoice it takes the money a second time, as a consumer without idempotency would
on a redelivered `OrderCreated`. Everything else still looks fine - every order is final,
every invoice PAID, the sum of all balances unchanged (the money only moved twice) - and the
check must still name each account that was charged twice.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.reliability.faulty_service import faulty
from tests.reliability.invariants import InvariantViolation, check_invariants, read_state
from tests.reliability.shop import (
    MakeCluster,
    open_accounts,
    place_orders,
    wait_until_settled,
    workload,
)

pytestmark = [pytest.mark.reliability, pytest.mark.rabbitmq, pytest.mark.slow]


def test_the_invariant_check_catches_a_double_charge(
    vhost_url: str, make_cluster: MakeCluster
) -> None:
    # Rich customers: the second charge always succeeds, so the orders are all CONFIRMED.
    shop = workload(orders=6, customers=3, balance="1000")
    cluster = make_cluster(vhost_url)
    cluster.add("billing", entry=faulty("billing", "--charge-twice"))
    cluster.add("ordering")
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), shop.balances))
    asyncio.run(place_orders([cluster.url("ordering")], shop.orders))

    ordering_db, billing_db = cluster.database_urls["ordering"], cluster.database_urls["billing"]
    asyncio.run(wait_until_settled(ordering_db, billing_db, expected_orders=6, timeout=60))
    state = asyncio.run(read_state(ordering_db, billing_db, vhost_url))
    assert state.statuses == {"CONFIRMED": 6}

    with pytest.raises(InvariantViolation) as caught:
        check_invariants(state, shop.opening_balances)

    charged = set(shop.balances) | {"merchant"}
    named = {problem.split()[1] for problem in caught.value.problems}
    assert named == charged, caught.value
    assert all("charged more (or less) than once" in p for p in caught.value.problems)
