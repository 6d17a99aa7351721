"""The core's metrics: one small module in front of OpenTelemetry metrics, a no-op without it.

What an operator watches, and where it is measured:

* ``cqrs.command.duration`` (s, by ``cqrs.message.type`` and ``cqrs.success``) - the mediator;
* ``cqrs.lock.wait`` (s) - the locking middleware, from asking to holding;
* ``cqrs.outbox.backlog`` (rows not yet published) and ``cqrs.outbox.oldest_pending_age`` (s) -
  sampled by the relay at most once per poll interval, after a round: a backlog that grows or
  ages means the broker is not taking messages;
* ``cqrs.relay.published`` and ``cqrs.relay.failures`` (by ``cqrs.outcome``: retry or dead) -
  the relay;
* ``cqrs.consumer.handled``, ``cqrs.consumer.duplicates`` - the consumers, and
  ``cqrs.consumer.dead_lettered`` - the brokers.

Like `tracing`, nothing here runs until `install` is given a meter provider (the service host
does it when telemetry is on), so the hot paths pay one ``None`` check.
Guide: docs/patterns/observability.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader

__all__ = [
    "command_finished",
    "command_timer",
    "consumer_dead_lettered",
    "consumer_duplicate",
    "consumer_handled",
    "enabled",
    "install",
    "lock_timer",
    "lock_waited",
    "outbox_sampled",
    "relay_failed",
    "relay_published",
    "scrape_readers",
    "uninstall",
]


@dataclass
class _Instruments:
    command_duration: Histogram
    lock_wait: Histogram
    relay_published: Counter
    relay_failures: Counter
    consumer_handled: Counter
    consumer_duplicates: Counter
    consumer_dead_lettered: Counter


@dataclass
class _OutboxSample:
    backlog: int = 0
    oldest_pending_age: float = 0.0


_instruments: _Instruments | None = None
_outboxes: dict[str, _OutboxSample] = {}
_prometheus: list[MetricReader] = []


def install(provider: MeterProvider) -> None:
    """Record the core's metrics through ``provider`` from now on."""
    from opentelemetry.metrics import CallbackOptions, Observation

    global _instruments
    meter = provider.get_meter("cqrs_ddd_core")

    def backlog(options: CallbackOptions) -> list[Observation]:
        return [
            Observation(s.backlog, {"cqrs.outbox": name}) for name, s in list(_outboxes.items())
        ]

    def oldest(options: CallbackOptions) -> list[Observation]:
        return [
            Observation(s.oldest_pending_age, {"cqrs.outbox": name})
            for name, s in list(_outboxes.items())
        ]

    meter.create_observable_gauge(
        "cqrs.outbox.backlog", [backlog], unit="{message}", description="Rows not yet published"
    )
    meter.create_observable_gauge(
        "cqrs.outbox.oldest_pending_age",
        [oldest],
        unit="s",
        description="Age of the oldest row not yet published",
    )
    _instruments = _Instruments(
        command_duration=meter.create_histogram(
            "cqrs.command.duration", unit="s", description="A command through the mediator"
        ),
        lock_wait=meter.create_histogram(
            "cqrs.lock.wait", unit="s", description="Waiting for a command's locks"
        ),
        relay_published=meter.create_counter(
            "cqrs.relay.published", unit="{message}", description="Outbox rows published"
        ),
        relay_failures=meter.create_counter(
            "cqrs.relay.failures", unit="{message}", description="Outbox publishes that failed"
        ),
        consumer_handled=meter.create_counter(
            "cqrs.consumer.handled", unit="{message}", description="Messages handled"
        ),
        consumer_duplicates=meter.create_counter(
            "cqrs.consumer.duplicates",
            unit="{message}",
            description="Redeliveries the inbox acknowledged without effect",
        ),
        consumer_dead_lettered=meter.create_counter(
            "cqrs.consumer.dead_lettered", unit="{message}", description="Messages dead-lettered"
        ),
    )


def uninstall() -> None:
    global _instruments
    _instruments = None
    _outboxes.clear()


def enabled() -> bool:
    return _instruments is not None


def scrape_readers() -> list[MetricReader]:
    """A Prometheus reader for ``GET /metrics`` (one per process: it registers globally)."""
    if not _prometheus:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        _prometheus.append(PrometheusMetricReader())
    return list(_prometheus)


def prometheus_text() -> tuple[bytes, str] | None:
    """The current metrics in Prometheus' text format, or ``None`` when none are kept."""
    if not _prometheus or _instruments is None:
        return None
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# --- recording -----------------------------------------------------------------------------


def command_finished(message_type: str, seconds: float, success: bool) -> None:
    if _instruments is not None:
        _instruments.command_duration.record(
            seconds, {"cqrs.message.type": message_type, "cqrs.success": success}
        )


def lock_waited(seconds: float) -> None:
    if _instruments is not None:
        _instruments.lock_wait.record(seconds)


def relay_published(topic: str) -> None:
    if _instruments is not None:
        _instruments.relay_published.add(1, {"messaging.destination.name": topic})


def relay_failed(topic: str, *, dead: bool) -> None:
    if _instruments is not None:
        outcome = "dead" if dead else "retry"
        attributes = {"messaging.destination.name": topic, "cqrs.outcome": outcome}
        _instruments.relay_failures.add(1, attributes)


def consumer_handled(consumer: str) -> None:
    if _instruments is not None:
        _instruments.consumer_handled.add(1, {"messaging.consumer.group.name": consumer})


def consumer_duplicate(consumer: str) -> None:
    if _instruments is not None:
        _instruments.consumer_duplicates.add(1, {"messaging.consumer.group.name": consumer})


def consumer_dead_lettered(queue: str) -> None:
    if _instruments is not None:
        _instruments.consumer_dead_lettered.add(1, {"messaging.consumer.group.name": queue})


def outbox_sampled(outbox: str, backlog: int, oldest: datetime | None, now: datetime) -> None:
    """The relay's latest look at its storage, reported at the next collection."""
    if _instruments is not None:
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        _outboxes[outbox] = _OutboxSample(backlog, max(age, 0.0))


class _NotTimed:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NOT_TIMED = _NotTimed()


class _CommandTimer:
    __slots__ = ("_started", "_type")

    def __init__(self, message_type: str) -> None:
        self._type = message_type

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        command_finished(self._type, time.perf_counter() - self._started, exc_type is None)


class _LockTimer:
    __slots__ = ("_started",)

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *exc_info: object) -> None:
        lock_waited(time.perf_counter() - self._started)


def lock_timer() -> Any:
    """``with lock_timer():`` - records ``cqrs.lock.wait`` when metrics are on."""
    return _NOT_TIMED if _instruments is None else _LockTimer()


def command_timer(message: Any) -> Any:
    """``with command_timer(command):`` - records ``cqrs.command.duration`` when metrics are on."""
    if _instruments is None:
        return _NOT_TIMED
    return _CommandTimer(type(message).__name__)
