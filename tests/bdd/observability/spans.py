"""Spans as the observability scenarios read them, from either running mode.

Embedded, both services share this process's tracer provider and its in-memory exporter
(`SpanRecorder`); as processes, each service exports over OTLP/HTTP (protobuf, the SDK's own
exporter) to `OtlpCollector` - a tiny HTTP server this test owns, on loopback. Both end up as
`RecordedSpan`, so a step cannot tell which mode it runs in.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass(frozen=True)
class RecordedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    links: tuple[str, ...]
    """The span ids this span links to."""
    attributes: dict[str, Any] = field(hash=False)
    events: tuple[str, ...] = ()
    start_ns: int = 0
    end_ns: int = 0


def from_sdk(span: ReadableSpan) -> RecordedSpan:
    context = span.get_span_context()
    assert context is not None
    return RecordedSpan(
        service=str(span.resource.attributes.get("service.name", "")),
        name=span.name,
        trace_id=f"{context.trace_id:032x}",
        span_id=f"{context.span_id:016x}",
        parent_id=f"{span.parent.span_id:016x}" if span.parent is not None else None,
        links=tuple(f"{link.context.span_id:016x}" for link in span.links),
        attributes=dict(span.attributes or {}),
        events=tuple(event.name for event in span.events),
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
    )


class SpanRecorder:
    """A tracer provider whose finished spans are kept in memory (the embedded mode)."""

    def __init__(self, service: str) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def spans(self) -> list[RecordedSpan]:
        return [from_sdk(span) for span in self.exporter.get_finished_spans()]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    return getattr(value, kind) if kind is not None else None


def from_otlp(request: ExportTraceServiceRequest) -> Iterator[RecordedSpan]:
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield RecordedSpan(
                    service=str(resource.get("service.name", "")),
                    name=span.name,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_id=span.parent_span_id.hex() or None,
                    links=tuple(link.span_id.hex() for link in span.links),
                    attributes={a.key: _value(a.value) for a in span.attributes},
                    events=tuple(event.name for event in span.events),
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                )


class OtlpCollector:
    """Receives OTLP/HTTP protobuf exports on 127.0.0.1 and keeps the spans (processes mode)."""

    def __init__(self) -> None:
        self._spans: list[RecordedSpan] = []
        self._lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                reply = b""
                if self.path == "/v1/traces":
                    collector._add(from_otlp(ExportTraceServiceRequest.FromString(body)))
                    reply = ExportTraceServiceResponse().SerializeToString()
                # Metrics and logs are accepted and dropped: the scenarios read spans.
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _add(self, spans: Iterable[RecordedSpan]) -> None:
        with self._lock:
            self._spans.extend(spans)

    def spans(self) -> list[RecordedSpan]:
        with self._lock:
            return list(self._spans)

    def __enter__(self) -> OtlpCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
