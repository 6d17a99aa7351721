"""Benchmark: the cost of one ``mediator.send``, next to python-cqrs's ``RequestMediator.send``.

What is measured: dispatching a trivial command through two middlewares - each library's own
logging middleware (its logger silenced at WARNING, as in production at INFO-off) and a
pass-through - in µs per call. Ours also opens and commits an `InMemoryUnitOfWork` for every
root command and manages the correlation context; python-cqrs has no unit of work, so it is
measured both bare and with its handler opening and committing the same `InMemoryUnitOfWork`
(the comparable work), plus through its documented default ``bootstrap(di.Container())``.

The one thing to notice is what keeps it fair: both commands are pydantic models with one
field, built the same way before the clock starts (one more row builds them inside the timed
loop, where our command's uuid4 ``command_id`` costs its share); both results are
dataclasses; the peer's handler comes from a container returning one ready instance (its
fastest path, as ours registers an instance); each pair is warmed up, then measured in
alternating repetitions (who goes first alternates too) in the same process and event loop,
garbage collection off while timing (as ``timeit`` does), and the median is kept. A sanity
pass first proves both sides really run their handler and our unit of work commits.
``ratio`` is ours / peer: below 1 means ours is faster. Run: ``just bench mediator``, or
``python -m benchmarks.mediator --profile`` to see where our time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import logging
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import cqrs
import di
from cqrs.bootstrap.requests import bootstrap
from cqrs.mapping.requests import RequestMap
from cqrs.middlewares.base import HandleType, MiddlewareChain
from cqrs.middlewares.logging import LoggingMiddleware as PeerLoggingMiddleware

from benchmarks._report import print_rows
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry, Next
from cqrs_ddd_core.ports.unit_of_work import UnitOfWorkState

PEER = "python-cqrs"
UNIT = "µs/call"
CALLS = 2_000
WARMUP_CALLS = 1_000
REPETITIONS = 21
SILENCED_LOGGERS = ("cqrs_ddd_core.messages", "cqrs")

Send = Callable[[Any], Awaitable[Any]]


# --- ours ----------------------------------------------------------------------------------


class PlaceOrder(Command[str]):
    order_id: str


class PlaceOrderHandler(CommandHandler[str]):
    handled: ClassVar[int] = 0

    async def handle(self, command: PlaceOrder) -> CommandResponse[str]:
        PlaceOrderHandler.handled += 1
        return CommandResponse(result=command.order_id)


class PassThroughMiddleware:
    async def __call__(self, message: Any, next: Next) -> Any:
        return await next(message)


def our_mediator(
    store: InMemoryStore,
    *,
    middleware: bool = True,
    uow_factory: Callable[[], InMemoryUnitOfWork] | None = None,
) -> Mediator:
    registry = HandlerRegistry()
    registry.register_command_handler(PlaceOrder, PlaceOrderHandler())
    middleware_registry = MiddlewareRegistry()
    if middleware:
        middleware_registry.register(LoggingMiddleware(), priority=10)
        middleware_registry.register(PassThroughMiddleware(), priority=20)
    return Mediator(
        registry=registry,
        uow_factory=uow_factory or (lambda: InMemoryUnitOfWork(store)),
        middleware_registry=middleware_registry,
    )


# --- python-cqrs ---------------------------------------------------------------------------


class PeerPlaceOrder(cqrs.PydanticRequest):
    order_id: str


class PeerOrderPlaced(cqrs.Response):
    order_id: str


class PeerPlaceOrderHandler(cqrs.RequestHandler[PeerPlaceOrder, PeerOrderPlaced]):
    handled: ClassVar[int] = 0

    async def handle(self, request: PeerPlaceOrder) -> PeerOrderPlaced:
        PeerPlaceOrderHandler.handled += 1
        return PeerOrderPlaced(order_id=request.order_id)


class PeerPlaceOrderInUnitOfWorkHandler(cqrs.RequestHandler[PeerPlaceOrder, PeerOrderPlaced]):
    """The same work as ours: one unit of work opened and committed per command."""

    handled: ClassVar[int] = 0
    store: ClassVar[InMemoryStore] = InMemoryStore()

    async def handle(self, request: PeerPlaceOrder) -> PeerOrderPlaced:
        async with InMemoryUnitOfWork(self.store) as uow:
            PeerPlaceOrderInUnitOfWorkHandler.handled += 1
            await uow.commit()
        return PeerOrderPlaced(order_id=request.order_id)


class PeerPassThroughMiddleware:
    # python-cqrs passes the next step as the keyword argument ``handle``.
    async def __call__(self, request: Any, handle: HandleType) -> Any:
        return await handle(request)


class InstanceContainer:
    """A python-cqrs container returning one ready handler per type: its fastest resolution."""

    def __init__(self, *handlers: Any) -> None:
        self._handlers = {type(handler): handler for handler in handlers}

    @property
    def external_container(self) -> Any:
        return self._handlers

    def attach_external_container(self, container: Any) -> None:
        self._handlers = dict(container)

    async def resolve(self, type_: type[Any]) -> Any:
        return self._handlers[type_]


def peer_mediator(handler: Any, *, middleware: bool = True) -> cqrs.RequestMediator:
    request_map = RequestMap()
    request_map.bind(PeerPlaceOrder, type(handler))
    chain = MiddlewareChain()
    if middleware:
        chain.add(PeerLoggingMiddleware())
        chain.add(PeerPassThroughMiddleware())
    return cqrs.RequestMediator(
        request_map=request_map,
        container=InstanceContainer(handler),
        middleware_chain=chain,
    )


def peer_bootstrapped_mediator() -> cqrs.RequestMediator:
    """python-cqrs as its documentation wires it: ``bootstrap`` over a ``di.Container``."""
    return bootstrap(
        di.Container(),
        middlewares=[PeerLoggingMiddleware(), PeerPassThroughMiddleware()],
        commands_mapper=lambda mapper: mapper.bind(PeerPlaceOrder, PeerPlaceOrderHandler),
    )


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Contender:
    send: Send
    make: Callable[[str], Any]
    handled: Callable[[], int]

    def building(self) -> Contender:
        """The same contender, building each command inside the timed loop."""
        send, make = self.send, self.make

        async def build_and_send(order_id: str) -> Any:
            return await send(make(order_id))

        return Contender(build_and_send, lambda order_id: order_id, self.handled)


async def time_batch(send: Send, messages: list[Any]) -> float:
    """µs per call for sending every message once, one after another."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter_ns()
        for message in messages:
            await send(message)
        elapsed = time.perf_counter_ns() - started
    finally:
        gc.enable()
    return elapsed / len(messages) / 1_000


async def head_to_head(
    ours: Contender, peer: Contender, *, calls: int, repetitions: int
) -> tuple[list[float], list[float]]:
    """Alternating repetitions of both sides; the µs/call of each repetition, ours and peer."""
    ours_before, peer_before = ours.handled(), peer.handled()
    for side in (ours, peer):
        await time_batch(side.send, [side.make(f"warm-{n}") for n in range(WARMUP_CALLS)])
    ours_times: list[float] = []
    peer_times: list[float] = []
    for repetition in range(repetitions):
        turns = [(ours, ours_times), (peer, peer_times)]
        if repetition % 2:
            turns.reverse()
        for side, times in turns:
            # Built before the clock starts, the same way on both sides (a `building()`
            # contender only receives ids and builds its command inside the timed loop).
            messages = [side.make(f"order-{n}") for n in range(calls)]
            times.append(await time_batch(side.send, messages))
    expected = WARMUP_CALLS + calls * repetitions
    for name, side, before in (("ours", ours, ours_before), (PEER, peer, peer_before)):
        if side.handled() - before != expected:
            raise AssertionError(f"{name} handled {side.handled() - before} of {expected} sends")
    return ours_times, peer_times


async def sanity_check() -> None:
    """Both sides return the order id, and our unit of work commits once per command."""
    opened: list[InMemoryUnitOfWork] = []

    def recording_factory() -> InMemoryUnitOfWork:
        opened.append(InMemoryUnitOfWork())
        return opened[-1]

    response = await our_mediator(InMemoryStore(), uow_factory=recording_factory).send(
        PlaceOrder(order_id="order-1")
    )
    if response.result != "order-1" or [u.state for u in opened] != [UnitOfWorkState.COMMITTED]:
        raise AssertionError(f"our mediator misbehaved: {response!r}, {opened!r}")
    for mediator in (
        peer_mediator(PeerPlaceOrderHandler()),
        peer_mediator(PeerPlaceOrderInUnitOfWorkHandler()),
        peer_bootstrapped_mediator(),
    ):
        result = await mediator.send(PeerPlaceOrder(order_id="order-1"))
        if result != PeerOrderPlaced(order_id="order-1"):
            raise AssertionError(f"{PEER} returned {result!r}")


def scenarios() -> list[tuple[str, Contender, Contender]]:
    store = InMemoryStore()

    def ours(middleware: bool = True) -> Contender:
        mediator = our_mediator(store, middleware=middleware)
        return Contender(
            mediator.send, lambda i: PlaceOrder(order_id=i), lambda: PlaceOrderHandler.handled
        )

    def peer(mediator: cqrs.RequestMediator, handler_type: Any) -> Contender:
        return Contender(
            mediator.send, lambda i: PeerPlaceOrder(order_id=i), lambda: handler_type.handled
        )

    bare, in_uow = PeerPlaceOrderHandler, PeerPlaceOrderInUnitOfWorkHandler
    return [
        (
            "send command, 2 middlewares; peer commits the same in-memory UoW",
            ours(),
            peer(peer_mediator(in_uow()), in_uow),
        ),
        (
            "send command, 2 middlewares; peer bare (no unit of work)",
            ours(),
            peer(peer_mediator(bare()), bare),
        ),
        (
            "send command, 2 middlewares; peer via bootstrap(di.Container())",
            ours(),
            peer(peer_bootstrapped_mediator(), bare),
        ),
        (
            "send command, no middleware; peer bare (no unit of work)",
            ours(middleware=False),
            peer(peer_mediator(bare(), middleware=False), bare),
        ),
        (
            "build + send command, 2 middlewares; peer commits the same in-memory UoW",
            ours().building(),
            peer(peer_mediator(in_uow()), in_uow).building(),
        ),
    ]


async def measure(calls: int = CALLS, repetitions: int = REPETITIONS) -> list[dict[str, Any]]:
    await sanity_check()
    rows: list[dict[str, Any]] = []
    for benchmark, ours, peer in scenarios():
        ours_times, peer_times = await head_to_head(
            ours, peer, calls=calls, repetitions=repetitions
        )
        value, peer_value = statistics.median(ours_times), statistics.median(peer_times)
        rows.append(
            {
                "benchmark": f"mediator: {benchmark}",
                "value": round(value, 2),
                "unit": UNIT,
                "peer": PEER,
                "peer_value": round(peer_value, 2),
                "ratio": round(value / peer_value, 3),
                "calls": calls,
                "repetitions": repetitions,
                "spread": [round(min(ours_times), 2), round(max(ours_times), 2)],
                "peer_spread": [round(min(peer_times), 2), round(max(peer_times), 2)],
            }
        )
    return rows


@contextlib.contextmanager
def silenced(names: tuple[str, ...] = SILENCED_LOGGERS) -> Iterator[None]:
    """Both logging middlewares run, but their records stay below the level that is emitted."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def main() -> list[dict[str, Any]]:
    with silenced():
        rows = asyncio.run(measure())
    print_rows(rows, title=f"mediator vs {PEER} (median µs per send; ratio = ours / peer)")
    for row in rows:
        verdict = "faster" if row["ratio"] < 1 else "slower"
        print(f"  ours is {abs(1 - row['ratio']):.0%} {verdict}: {row['benchmark']}")
    return rows


def profile(calls: int = 20_000) -> None:
    """Where one of our sends spends its time (cProfile, sorted by own time)."""

    mediator = our_mediator(InMemoryStore())
    # Built before profiling starts, as in the measurement: only the sends are profiled.
    commands = [PlaceOrder(order_id=f"order-{n}") for n in range(calls)]

    async def sends() -> None:
        for command in commands:
            await mediator.send(command)

    profiler = cProfile.Profile()
    with silenced():
        profiler.runcall(asyncio.run, sends())
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="profile our send instead")
    if parser.parse_args().profile:
        profile()
    else:
        main()
