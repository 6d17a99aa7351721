"""What several sections share: the story's accounts, bounded waits, and small readings.

The readings are an account's balance, the copies of a message the broker carried, the classes
a module defines, and the short form of an id.

The thing to notice: every wait here is bounded by `WAIT`. A story that does not happen - an
order never confirmed, a message never delivered - ends in a failed check or a `TimeoutError`
that says what was awaited, never in a demo that hangs.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from billing_service import bootstrap as billing_bootstrap
from demo.observers import Seen
from demo.stack import Stack

T = TypeVar("T")
WAIT = 15.0
"""Seconds any wait may take before the demo reports a failure instead of hanging."""
MERCHANT = billing_bootstrap.MERCHANT_ACCOUNT
ACCOUNTS = ("ada", "bob", MERCHANT)


def sqlite_engine(engine: AsyncEngine | None) -> AsyncEngine:
    assert engine is not None, "the demo runs the services on SQLite files"
    return engine


async def balance_of(stack: Stack, account: str) -> Decimal:
    reply = await stack.billing_http.get(f"/accounts/{account}")
    reply.raise_for_status()
    return Decimal(reply.json()["balance"])


async def wait_for_status(stack: Stack, order_id: str, wanted: set[str]) -> str:
    async with asyncio.timeout(WAIT):
        while True:
            status = str((await stack.ordering_http.get(f"/orders/{order_id}")).json()["status"])
            if status in wanted:
                return status
            await asyncio.sleep(0.01)


async def wait_until(check: Callable[[], Any]) -> Any:
    """Poll ``check`` (a value or an awaitable) until it is truthy, at most `WAIT` seconds."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                value = check()
                if inspect.isawaitable(value):
                    value = await value
                if value:
                    return value
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise TimeoutError(
            f"still not true after {WAIT}s: {inspect.getsource(check).strip()}"
        ) from None


def copies_of(stack: Stack, event_id: str) -> list[Seen]:
    return [message for message in stack.tap.seen if message.event_id == event_id]


def classes_in(module: ModuleType, base: type[T]) -> list[type[T]]:
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, base)
        and value.__module__ == module.__name__
    ]


def short(identifier: str | None) -> str:
    return identifier[:8] if identifier else "-"
