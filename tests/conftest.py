"""Shared fixtures: one event loop per scenario, and a guard against steps that never run.

pytest-bdd calls steps synchronously. A step written ``async def`` would never be awaited and
its scenario would pass without testing anything, so `pytest_bdd_before_step_call` refuses it.
Steps call async code through ``run`` instead: an anyio blocking portal whose event loop lives
for the whole scenario, so background tasks (relays, consumers) keep running between steps as
they do in production.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

Run = Callable[..., Any]


def pytest_bdd_before_step_call(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Callable[..., Any],
    step_func_args: dict[str, Any],
) -> None:
    if inspect.iscoroutinefunction(step_func):
        raise TypeError(
            f"Step {step.name!r} is 'async def': pytest-bdd would never await it. Write it "
            f"as a plain function that calls run(coroutine_function, *args)."
        )


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    """An event loop in a background thread, alive for one test or scenario."""
    with start_blocking_portal(backend="asyncio") as portal:
        yield portal


@pytest.fixture
def run(portal: BlockingPortal) -> Run:
    """``run(async_fn, *args)`` runs ``async_fn(*args)`` on the scenario's event loop."""

    def call(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return portal.call(fn, *args)

    return call
