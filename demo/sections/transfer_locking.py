"""Section 3: TransferFunds - opposite transfers at once, and no deadlock.

Sixty transfers between three accounts, in every direction, are sent at the same moment. The
locking middleware holds each transfer's source account - the one money leaves - until the
commit; the handler takes both rows with the transaction's own row lock, in id order. The thing
to notice: more lock acquisitions were waiting at once than there are accounts, so the
transfers really contended - and still every balance is exactly what the sixty transfers make
it, no transfer failed, and no lock is left held.
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

from billing_service.application.commands import TransferFundsCommand
from demo.narration import Narrator
from demo.observers import LockWatch
from demo.sections.common import balance_of
from demo.sections.story import Story
from demo.stack import Stack


async def transfer_locking(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        3,
        "locking",
        "TransferFunds: opposite transfers at once, no deadlock",
        code=[
            "core/cqrs_ddd_core/cqrs/concurrency.py (CriticalSection)",
            "core/cqrs_ddd_core/middleware/locking.py",
            "core/cqrs_ddd_core/adapters/sqlalchemy/locking.py",
        ],
        scenario=[
            "features/core/transfer_funds.feature",
            "features/billing/transfers.feature",
        ],
        story=(
            "TransferFundsCommand names the account money leaves as its critical resource; "
            "the locking middleware holds it until the transaction has committed. The credited "
            "account needs no such lock - a credit cannot overdraw it - so the handler takes "
            "both rows with the transaction's own row lock, in id order: a->b and b->a queue "
            "up instead of deadlocking. Here 60 transfers between three accounts, in every "
            "direction, are sent at the same moment."
        ),
    )
    accounts = ["acct-1", "acct-2", "acct-3"]
    for account in accounts:
        reply = await stack.billing_http.post(
            "/accounts", json={"account_id": account, "balance": "1000.00"}
        )
        reply.raise_for_status()
    before = {a: await balance_of(stack, a) for a in accounts}
    directions = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 0), (0, 2)]
    rng = random.Random(7)
    transfers = [
        TransferFundsCommand(
            from_account=accounts[directions[i % 6][0]],
            to_account=accounts[directions[i % 6][1]],
            amount=Decimal(rng.randint(1, 40)),
        )
        for i in range(60)
    ]
    expected = dict(before)
    for t in transfers:
        expected[t.from_account] -= t.amount
        expected[t.to_account] += t.amount
    watch = LockWatch(stack.billing.storage.locks, only=set(accounts))
    watch.install()
    try:
        with narrator.waiting("60 transfers running at once"):
            async with asyncio.timeout(60):
                results = await asyncio.gather(
                    *(stack.billing.mediator.send(t) for t in transfers), return_exceptions=True
                )
    finally:
        watch.uninstall()
    errors = [r for r in results if isinstance(r, BaseException)]
    after = {a: await balance_of(stack, a) for a in accounts}
    still_held = [
        lock
        for lock in await stack.billing.storage.locks.get_active_locks()
        if lock.resource.resource_id in accounts
    ]
    waits = sorted(watch.waits) or [0.0]
    narrator.table(
        "balances",
        ["account", "before", "after", "expected from the 60 transfers"],
        [[a, str(before[a]), str(after[a]), str(expected[a])] for a in accounts],
    )
    narrator.evidence(
        "lock acquisitions (timed around the lock strategy's acquire)",
        [
            ("acquisitions", f"{len(watch.waits)} (1 per transfer: its source)"),
            ("median acquire", _ms(waits[len(waits) // 2])),
            ("longest acquire", f"{_ms(waits[-1])}  (queued behind other transfers)"),
            ("most acquiring at once", f"{watch.most_waiting}  (for 3 accounts)"),
            ("locks held afterwards", str(len(still_held))),
        ],
    )
    narrator.check(not errors, f"all 60 transfers committed ({len(errors)} failed)")
    narrator.check(
        sum(after.values()) == sum(before.values()),
        f"money is conserved: {sum(before.values())} before, {sum(after.values())} after",
    )
    narrator.check(
        after == expected, "every balance is exactly what the 60 transfers make it (no lost update)"
    )
    narrator.check(
        len(watch.waits) == len(transfers) and watch.most_waiting > len(accounts),
        f"transfers really waited for each other: {watch.most_waiting} acquisitions at once "
        f"for {len(accounts)} accounts",
    )
    narrator.check(not still_held, "every lock was released")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
