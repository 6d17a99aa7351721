"""`start_telemetry`: off unless an OTLP endpoint is set; the standard variables configure it.

Export is checked in a child process (the SDK's providers are set once per process), against
the scenarios' OTLP collector: the spans arrive over OTLP/HTTP, under the service's name or
``OTEL_SERVICE_NAME``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cqrs_ddd_core.adapters.host.telemetry import telemetry_wanted
from tests.bdd.observability.spans import OtlpCollector

EXPORT_ONE_SPAN = """
from cqrs_ddd_core.adapters.host.telemetry import start_telemetry
from cqrs_ddd_core.observability import tracing

class PlaceOrder:
    command_id = "c-1"
    correlation_id = "story-1"
    causation_id = None

telemetry = start_telemetry("ordering")
assert telemetry is not None
with tracing.message_span(PlaceOrder()):
    pass
telemetry.shutdown()
"""


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_export_is_off_unless_an_endpoint_is_set(environ: dict[str, str], wanted: bool) -> None:
    assert telemetry_wanted(environ) is wanted


@pytest.mark.parametrize(
    ("service_name", "expected"), [(None, "ordering"), ("shop-ordering", "shop-ordering")]
)
def test_spans_leave_over_otlp_under_the_service_name(
    service_name: str | None, expected: str
) -> None:
    with OtlpCollector() as collector:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.endpoint
        if service_name is not None:
            env["OTEL_SERVICE_NAME"] = service_name
        subprocess.run([sys.executable, "-c", EXPORT_ONE_SPAN], env=env, check=True, timeout=60)
        deadline = time.monotonic() + 10
        while not collector.spans() and time.monotonic() < deadline:
            time.sleep(0.05)
        [span] = collector.spans()
    assert span.name == "command PlaceOrder"
    assert span.service == expected
    assert span.attributes["cqrs.correlation_id"] == "story-1"
