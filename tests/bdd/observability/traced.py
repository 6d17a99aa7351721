"""Ordering and billing with tracing on, in both modes, and the spans they recorded.

``TracedEmbedded`` - the embedded deployment of the cross-context scenarios, with the core's
tracing installed on a provider whose spans stay in memory, and ordering's Litestar app
(Litestar's OpenTelemetry plugin included) called in process. ``TracedProcesses`` - the two
services as OS processes over RabbitMQ, started with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at
an `OtlpCollector` of the test's own. Either way the order is placed over HTTP with a
``traceparent`` the test chose, so the test knows the story's trace id before any span exists.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
from typing import Any, Protocol

import httpx

from cqrs_ddd_core.observability import tracing
from cqrs_ddd_core.observability.logs import json_handler
from deploy.cluster import Cluster
from tests.bdd.cross_context.deployment import Deployment
from tests.bdd.cross_context.embedded import EmbeddedDeployment
from tests.bdd.cross_context.processes import HTTP_TIMEOUT, ProcessesDeployment
from tests.bdd.observability.spans import OtlpCollector, RecordedSpan, SpanRecorder
from tests.tokens import auth_headers

OTEL_ENV = {
    "LOG_FORMAT": "json",
    # Spans leave each process within 50 ms instead of the SDK's 5 s.
    "OTEL_BSP_SCHEDULE_DELAY": "50",
    "OTEL_METRIC_EXPORT_INTERVAL": "60000",
}


def new_traceparent() -> tuple[str, str]:
    """A fresh W3C ``traceparent`` (sampled) and its trace id."""
    trace_id = secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01", trace_id


class Traced(Protocol):
    deployment: Deployment
    services: set[str]
    """The ``service.name`` values the story's spans must carry."""

    async def place_order_over_http(
        self, customer_id: str, items: list[dict[str, Any]], traceparent: str
    ) -> str: ...

    def spans(self) -> list[RecordedSpan]: ...

    def json_log_lines(self, service: str) -> list[dict[str, Any]]: ...


class TracedEmbedded:
    services = {"embedded"}

    def __init__(self, deployment: EmbeddedDeployment, recorder: SpanRecorder) -> None:
        self.deployment = deployment
        self._embedded = deployment
        self._recorder = recorder
        # Built after tracing is installed: the app gets Litestar's OpenTelemetry plugin.
        self._app = deployment.ordering.create_app(lifespan=False)
        # Both services log through one process here: their lines are told apart by logger
        # only, so every line is read as billing's and ordering's alike.
        self._log = io.StringIO()
        self._handler = json_handler("embedded")
        assert isinstance(self._handler, logging.StreamHandler)
        self._handler.setStream(self._log)
        self._logger = logging.getLogger("cqrs_ddd_core")
        self._level = self._logger.level
        self._logger.addHandler(self._handler)
        self._logger.setLevel(logging.INFO)

    @classmethod
    async def start(cls) -> TracedEmbedded:
        recorder = SpanRecorder(service="embedded")
        tracing.install(recorder.provider)
        try:
            return cls(await EmbeddedDeployment.start(), recorder)
        except BaseException:
            tracing.uninstall()
            raise

    async def stop(self) -> None:
        try:
            await self._embedded.stop()
        finally:
            tracing.uninstall()
            self._logger.removeHandler(self._handler)
            self._logger.setLevel(self._level)

    def json_log_lines(self, service: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._log.getvalue().splitlines()]

    async def place_order_over_http(
        self, customer_id: str, items: list[dict[str, Any]], traceparent: str
    ) -> str:
        transport = httpx.ASGITransport(app=self._app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordering") as client:
            response = await client.post(
                "/orders",
                json={"customer_id": customer_id, "items": items},
                headers={**auth_headers(), "traceparent": traceparent},
            )
        assert response.status_code == 201, response.text
        return str(response.json()["order_id"])

    def spans(self) -> list[RecordedSpan]:
        return self._recorder.spans()


class TracedProcesses:
    services = {"ordering", "billing"}

    def __init__(self, cluster: Cluster, collector: OtlpCollector) -> None:
        self.deployment = ProcessesDeployment(cluster)
        self._cluster = cluster
        self._collector = collector

    async def place_order_over_http(
        self, customer_id: str, items: list[dict[str, Any]], traceparent: str
    ) -> str:
        async with httpx.AsyncClient(
            base_url=self._cluster.url("ordering"), timeout=HTTP_TIMEOUT
        ) as client:
            response = await client.post(
                "/orders",
                json={"customer_id": customer_id, "items": items},
                headers={**auth_headers(), "traceparent": traceparent},
            )
        assert response.status_code == 201, response.text
        return str(response.json()["order_id"])

    def spans(self) -> list[RecordedSpan]:
        return self._collector.spans()

    def json_log_lines(self, service: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for process in self._cluster.replicas(service):
            # Only the logging lines: a warning printed by Python itself is not one.
            text = process.log_text().splitlines()
            lines.extend(json.loads(line) for line in text if line.startswith("{"))
        return lines
