"""Benchmark: what tracing costs per order - CPU per paid order with the core's spans on and off.

What is measured: both services built from their bootstraps in this process (in-memory storage,
one `InMemoryBroker`: no I/O, so the spans' share is the largest it can be), then orders placed
one after the other, each waited for until ordering has CONFIRMED it - about 26 spans per
order. The figure is the process's CPU time per order; **ours** is with tracing on (an SDK
`TracerProvider` whose `BatchSpanProcessor` hands the spans to an exporter that discards them,
so the export itself is not counted), **peer** the same with tracing off. Runs alternate, the
median is kept. ``ratio`` > 1 is what tracing adds. Tracing off is a no-op ``with`` per command:
the mediator benchmark shows it does not move. Run: ``just bench tracing``.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from benchmarks._report import print_rows
from billing_service import bootstrap as billing_bootstrap
from billing_service.application.commands import OpenAccountCommand
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.observability import tracing
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.commands import CreateOrderCommand, OrderItem
from ordering_service.application.queries import GetOrderQuery

ORDERS = 100
REPETITIONS = 3
UNIT = "ms/order"


class Discard(SpanExporter):
    """Takes the spans and drops them: the SDK's work is measured, not an exporter's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def cpu_per_order(traced: bool) -> float:
    provider: TracerProvider | None = None
    if traced:
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Discard()))
        tracing.install(provider)
    broker = InMemoryBroker()
    ordering = ordering_bootstrap.build(
        ordering_bootstrap.OrderingSettings(database_url="memory"), broker=broker
    )
    billing = billing_bootstrap.build(
        billing_bootstrap.BillingSettings(database_url="memory"), broker=broker
    )
    await billing.start()
    await ordering.start()
    try:
        await billing.mediator.send(OpenAccountCommand(account_id="ada", balance=Decimal(10**9)))
        started = time.process_time()
        for _ in range(ORDERS):
            item = OrderItem(sku="dune", quantity=1, unit_price=Decimal("1.00"))
            placed = await ordering.mediator.send(
                CreateOrderCommand(customer_id="ada", items=[item])
            )
            query = GetOrderQuery(order_id=str(placed.result))
            while (await ordering.mediator.send(query)).result.status != "CONFIRMED":  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        return (time.process_time() - started) / ORDERS * 1000
    finally:
        await ordering.stop()
        await billing.stop()
        await broker.stop()
        tracing.uninstall()
        if provider is not None:
            provider.shutdown()


async def measure() -> list[dict[str, Any]]:
    on: list[float] = []
    off: list[float] = []
    for repetition in range(REPETITIONS):
        for traced in (True, False) if repetition % 2 == 0 else (False, True):
            (on if traced else off).append(await cpu_per_order(traced))
    value, peer = statistics.median(on), statistics.median(off)
    return [
        {
            "benchmark": "CPU per paid order, both services embedded, tracing on",
            "value": round(value, 2),
            "unit": UNIT,
            "peer": "tracing off",
            "peer_value": round(peer, 2),
            "ratio": round(value / peer, 3),
        }
    ]


def main() -> list[dict[str, Any]]:
    logging.getLogger("cqrs_ddd_core").setLevel(logging.WARNING)
    rows = asyncio.run(measure())
    print_rows(rows, title="tracing cost (median; ratio = on / off)")
    return rows


if __name__ == "__main__":
    main()
