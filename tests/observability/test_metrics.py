"""The core's metrics, read after a real order went through both services (embedded)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from cqrs_ddd_core.observability import metrics
from tests.bdd.cross_context.embedded import EmbeddedDeployment
from tests.messaging.support import eventually
from tests.tokens import auth_headers


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    metrics.install(MeterProvider(metric_readers=[reader]))
    yield reader
    metrics.uninstall()


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def total(found: dict[str, list[Any]], name: str, **attributes: Any) -> float:
    return sum(
        point.value
        for point in found.get(name, [])
        if all(point.attributes.get(k) == v for k, v in attributes.items())
    )


async def paid_order(deployment: EmbeddedDeployment) -> None:
    await deployment.open_account("alice", Decimal("100.00"))
    placed = await deployment.place_order(
        "alice", [{"sku": "book", "quantity": 2, "unit_price": "20.00"}]
    )
    async with asyncio.timeout(5):
        while (await deployment.order(placed.order_id))["status"] != "CONFIRMED":  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await deployment.broker.drain()


async def test_one_paid_order_shows_in_every_metric(reader: InMemoryMetricReader) -> None:
    deployment = await EmbeddedDeployment.start()
    try:
        await paid_order(deployment)
        found = points(reader)
        durations = {p.attributes["cqrs.message.type"]: p for p in found["cqrs.command.duration"]}
        assert {"CreateOrderCommand", "PayInvoiceCommand", "TransferFundsCommand"} <= set(durations)
        assert durations["PayInvoiceCommand"].count == 1
        assert sum(p.count for p in found["cqrs.lock.wait"]) >= 1
        topic = "messaging.destination.name"
        assert total(found, "cqrs.relay.published", **{topic: "OrderCreated"}) == 1
        assert total(found, "cqrs.relay.published", **{topic: "PaymentCaptured"}) == 1
        assert total(found, "cqrs.relay.failures") == 0
        assert total(found, "cqrs.consumer.handled") >= 2
        assert total(found, "cqrs.consumer.duplicates") == 0

        # Each relay samples its storage once per poll interval, its gathered marks written
        # first: within one interval of the last publish, nothing is left waiting.
        async def nothing_waiting() -> bool:
            found = points(reader)
            return bool(found.get("cqrs.outbox.backlog")) and (
                total(found, "cqrs.outbox.backlog"),
                total(found, "cqrs.outbox.oldest_pending_age"),
            ) == (0, 0)

        await eventually(nothing_waiting, timeout=10, what="an empty backlog sampled")
    finally:
        await deployment.stop()


async def test_a_broken_broker_shows_as_failures_and_an_ageing_backlog(
    reader: InMemoryMetricReader,
) -> None:
    deployment = await EmbeddedDeployment.start()
    try:
        await deployment.open_account("alice", Decimal("100.00"))
        deployment.broker.take_down()
        await deployment.place_order(
            "alice", [{"sku": "book", "quantity": 1, "unit_price": "5.00"}]
        )
        async with asyncio.timeout(5):
            while total(points(reader), "cqrs.outbox.oldest_pending_age") < 0.05:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        found = points(reader)
        assert total(found, "cqrs.relay.failures", **{"cqrs.outcome": "retry"}) >= 1
        assert total(found, "cqrs.outbox.backlog") >= 1
        deployment.broker.bring_up()
    finally:
        await deployment.stop()


async def test_a_duplicate_and_a_dead_letter_are_counted(reader: InMemoryMetricReader) -> None:
    deployment = await EmbeddedDeployment.start()
    try:
        await paid_order(deployment)
        [created] = [e for e in deployment.broker.published if e.topic == "OrderCreated"]
        await deployment.broker.publish(created.topic, created.payload, message_id="again")
        await deployment.broker.publish("OrderCreated", {"event_type": "OrderCreated"})
        await deployment.broker.drain()
        found = points(reader)
        assert total(found, "cqrs.consumer.duplicates") == 1
        assert total(found, "cqrs.consumer.dead_lettered") == 1
    finally:
        await deployment.stop()


async def test_metrics_are_served_in_prometheus_format() -> None:
    provider = MeterProvider(metric_readers=metrics.scrape_readers())
    metrics.install(provider)
    deployment = await EmbeddedDeployment.start()
    try:
        await paid_order(deployment)
        app = deployment.ordering.create_app(lifespan=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://o") as client:
            response = await client.get("/metrics", headers=auth_headers())
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "cqrs_command_duration_seconds_count" in response.text
        assert 'cqrs_message_type="CreateOrderCommand"' in response.text
    finally:
        await deployment.stop()
        metrics.uninstall()
        provider.shutdown()


async def test_without_metrics_the_endpoint_says_how_to_turn_them_on() -> None:
    deployment = await EmbeddedDeployment.start()
    try:
        app = deployment.ordering.create_app(lifespan=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://o") as client:
            response = await client.get("/metrics", headers=auth_headers())
        assert response.status_code == 404
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in response.text
    finally:
        await deployment.stop()
