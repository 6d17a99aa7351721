"""The core's own spans: one small module in front of OpenTelemetry, a no-op without it.

The mediator, the outbox, the relay, the consumers, the brokers and the locking middleware
call only the functions here; none of them imports ``opentelemetry``. So the core installs
with pydantic alone, and tracing is switched on by handing this module a tracer provider
(`install`) - the service host does it when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. Until then
every function returns at its first line (a shared do-nothing context manager, no
allocation), which keeps the mediator's hot path where it was.

The thing to notice is how one story stays one trace across the broker:

* The outbox row stores two W3C ``traceparent`` values in its headers: the context the row was
  written *in* (the command's span) and the outbox-write span itself.
* The relay's publish span is a child of the first - the story goes on from the command that
  caused the message - and **links** to the second: it runs later, in another task or process,
  possibly more than once for one row, so it is not part of the write.
* The publish injects its own ``traceparent`` into the message headers; the broker adapter's
  consumer span is its child, and everything the consumer does nests below.

Scenario: features/observability/one_order_one_trace.feature.
Guide: docs/patterns/observability.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
    from opentelemetry.trace import Link, SpanKind, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:  # pragma: no cover - the core without its "otel" extra
    trace = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = [
    "TRACEPARENT",
    "WRITE_TRACEPARENT",
    "consuming",
    "dead_lettered",
    "failed",
    "handling",
    "inbox_check",
    "install",
    "installed_provider",
    "lock_wait",
    "message_span",
    "note",
    "outbox_write",
    "publishing",
    "uninstall",
]

INSTRUMENTATION = "cqrs_ddd_core"
TRACEPARENT = "traceparent"
WRITE_TRACEPARENT = "outbox-write-traceparent"
"""The outbox-write span's own context, kept in the row for the relay's link."""

CORRELATION_ID = "cqrs.correlation_id"
CAUSATION_ID = "cqrs.causation_id"
MESSAGE_TYPE = "cqrs.message.type"
INBOX_DUPLICATE = "cqrs.inbox.duplicate"
LOCK_RESOURCES = "cqrs.lock.resources"
LOCK_WAIT_MS = "cqrs.lock.wait_ms"

_tracer: Tracer | None = None
_provider: TracerProvider | None = None
_w3c = TraceContextTextMapPropagator() if trace is not None else None


# --- switching it on and off ---------------------------------------------------------------


def install(provider: TracerProvider) -> None:
    """Record the core's spans through ``provider`` from now on."""
    global _tracer, _provider
    if trace is None:
        raise RuntimeError("tracing needs the opentelemetry-api and -sdk packages")
    _provider = provider
    _tracer = provider.get_tracer(INSTRUMENTATION)


def uninstall() -> None:
    """Back to no spans at all (tests that installed a provider of their own)."""
    global _tracer, _provider
    _tracer = _provider = None


def installed_provider() -> TracerProvider | None:
    """The provider `install` was given (the HTTP edge traces through the same one)."""
    return _provider


# --- the spans -----------------------------------------------------------------------------


class _Off:
    """What every function hands back while tracing is off: enters and leaves, nothing else."""

    __slots__ = ()

    def __enter__(self) -> dict[str, str]:
        return {}

    def __exit__(self, *exc_info: object) -> None:
        return None


_OFF = _Off()


class _Current:
    """Makes ``span`` the current span for a block, records an escaping error, ends it."""

    __slots__ = ("_result", "_span", "_token")

    def __init__(self, span: Span, result: Any = None) -> None:
        self._span = span
        self._result = result

    def __enter__(self) -> Any:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self._result

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is not None and not isinstance(exc, GeneratorExit):
                self._span.record_exception(exc)
                self._span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
            self._span.end()
        finally:
            otel_context.detach(self._token)


def message_span(message: Any) -> Any:
    """``with message_span(command):`` - one span per command or query through the mediator.

    Nested commands are sent inside their parent's span, so they become its children.
    """
    if _tracer is None:
        return _OFF
    kind = "command" if hasattr(message, "command_id") else "query"
    name = type(message).__name__
    span = _tracer.start_span(
        f"{kind} {name}",
        attributes=_ids(
            {MESSAGE_TYPE: name, "cqrs.message.kind": kind, "cqrs.message.id": _id_of(message)},
            message.correlation_id,
            getattr(message, "causation_id", None),
        ),
    )
    return _Current(span)


def lock_wait(resources: Sequence[object]) -> Any:
    """``with lock_wait(resources):`` - the wait for a command's locks; its length is the wait."""
    if _tracer is None:
        return _OFF
    span = _tracer.start_span(
        "lock acquire", attributes={LOCK_RESOURCES: [str(r) for r in resources]}
    )
    return _Current(span)


# --8<-- [start:outbox-write]
def outbox_write(topic: str, message_id: str, correlation_id: str | None) -> Any:
    """``with outbox_write(...) as headers:`` - storing one outbox row, in the caller's transaction.

    ``headers`` (empty while tracing is off) is what the row keeps for the relay: the context
    it was written in, and this write span's own, for the relay's link.
    """
    if _tracer is None:
        return _OFF
    headers: dict[str, str] = {}
    propagate.inject(headers)  # the cause: the command being handled
    span = _tracer.start_span(
        f"outbox write {topic}",
        kind=SpanKind.INTERNAL,
        attributes=_ids(
            {
                "db.operation.name": "INSERT",
                "db.collection.name": "cqrs_outbox",
                "messaging.destination.name": topic,
                "messaging.message.id": message_id,
                "messaging.operation.type": "create",
            },
            correlation_id,
            None,
        ),
    )
    written: dict[str, str] = {}
    _w3c.inject(written, trace.set_span_in_context(span))
    if TRACEPARENT in written:
        headers[WRITE_TRACEPARENT] = written[TRACEPARENT]
    return _Current(span, headers)
    # --8<-- [end:outbox-write]


# --8<-- [start:publishing]
def publishing(
    topic: str,
    message_id: str,
    headers: Mapping[str, Any] | None,
    *,
    correlation_id: str | None,
    causation_id: str | None,
) -> Any:
    """``with publishing(...) as wire_headers:`` - the relay handing one stored row to the broker.

    A child of the context the row was written in, linked to the write itself.
    ``wire_headers`` carry this span's ``traceparent`` to the consumer; while tracing is off
    they are the row's headers, unchanged (a service that does not trace still passes the
    story's context on).
    """
    stored = {k: str(v) for k, v in (headers or {}).items()}
    if _tracer is None:
        return _PassThrough(stored)
    links = []
    write = stored.pop(WRITE_TRACEPARENT, None)
    if write is not None:
        write_context = trace.get_current_span(
            _w3c.extract({TRACEPARENT: write})
        ).get_span_context()
        if write_context.is_valid:
            links.append(Link(write_context, {"cqrs.link": "outbox write"}))
    span = _tracer.start_span(
        f"publish {topic}",
        context=propagate.extract(stored),
        kind=SpanKind.PRODUCER,
        links=links,
        attributes=_ids(
            {
                "messaging.operation.type": "send",
                "messaging.operation.name": "publish",
                "messaging.destination.name": topic,
                "messaging.message.id": message_id,
            },
            correlation_id,
            causation_id,
        ),
    )
    wire: dict[str, str] = {}
    propagate.inject(wire, trace.set_span_in_context(span))
    return _Current(span, wire)
    # --8<-- [end:publishing]


class _PassThrough:
    __slots__ = ("_headers",)

    def __init__(self, headers: dict[str, str]) -> None:
        headers.pop(WRITE_TRACEPARENT, None)
        self._headers = headers

    def __enter__(self) -> dict[str, str]:
        return self._headers

    def __exit__(self, *exc_info: object) -> None:
        return None


# --8<-- [start:consuming]
def consuming(
    system: str,
    topic: str,
    message_id: str | None,
    headers: Mapping[str, Any] | None,
    *,
    queue: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Any:
    """``with consuming(...):`` - a broker delivering one message to a consumer.

    A child of the publish, through the ``traceparent`` the message carries.
    """
    if _tracer is None:
        return _OFF
    carrier = {
        key: value.decode() if isinstance(value, bytes) else value
        for key, value in (headers or {}).items()
        if key in (TRACEPARENT, "tracestate", "baggage") and isinstance(value, str | bytes)
    }
    attributes: dict[str, Any] = {
        "messaging.system": system,
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": queue,
    }
    if message_id is not None:
        attributes["messaging.message.id"] = message_id
    span = _tracer.start_span(
        f"process {topic}",
        context=propagate.extract(carrier),
        kind=SpanKind.CONSUMER,
        attributes=_ids(attributes, correlation_id, causation_id),
    )
    return _Current(span)
    # --8<-- [end:consuming]


def inbox_check(consumer: str, message_id: str) -> Any:
    """``with inbox_check(...):`` - "was this message processed already?"; see `note`."""
    if _tracer is None:
        return _OFF
    span = _tracer.start_span(
        "inbox check",
        attributes={
            "db.operation.name": "SELECT",
            "db.collection.name": "cqrs_inbox",
            "messaging.message.id": message_id,
            "messaging.consumer.group.name": consumer,
        },
    )
    return _Current(span)


def handling(consumer: str, event: Any) -> Any:
    """``with handling(consumer, event):`` - a consumer's handlers at work on one event."""
    if _tracer is None:
        return _OFF
    name = type(event).__name__
    span = _tracer.start_span(
        f"handle {name}",
        attributes=_ids(
            {
                MESSAGE_TYPE: name,
                "messaging.message.id": event.event_id,
                "messaging.consumer.group.name": consumer,
            },
            event.correlation_id,
            event.causation_id,
        ),
    )
    return _Current(span)


# --- on the current span -------------------------------------------------------------------


def note(key: str, value: str | bool | int | float) -> None:
    """Set an attribute on the current span (an outcome known only at the end)."""
    if _tracer is not None:
        trace.get_current_span().set_attribute(key, value)


def failed(error: BaseException) -> None:
    """Record on the current span an error that was handled (retried, dead-lettered)."""
    if _tracer is not None:
        span = trace.get_current_span()
        span.record_exception(error)
        span.set_status(StatusCode.ERROR, f"{type(error).__name__}: {error}")


def dead_lettered(reason: str) -> None:
    """Record on the current span that its message went to the dead-letter queue, and why."""
    if _tracer is not None:
        span = trace.get_current_span()
        span.add_event("dead_letter", {"cqrs.dead_letter.reason": reason})


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids in hex (for log lines), or ``None`` outside a span."""
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def _ids(
    attributes: dict[str, Any], correlation_id: str | None, causation_id: str | None
) -> dict[str, Any]:
    if correlation_id is not None:
        attributes[CORRELATION_ID] = correlation_id
        attributes["messaging.message.conversation_id"] = correlation_id
    if causation_id is not None:
        attributes[CAUSATION_ID] = causation_id
    return attributes


def _id_of(message: Any) -> str:
    return str(getattr(message, "command_id", None) or getattr(message, "query_id", ""))
