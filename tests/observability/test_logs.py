"""``LOG_FORMAT=json``: one JSON object per line, carrying the service, the trace and the story."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from cqrs_ddd_core.observability import tracing
from cqrs_ddd_core.observability.logs import configure_log_format, json_handler
from cqrs_ddd_core.primitives.context import message_context
from tests.bdd.observability.spans import SpanRecorder


@pytest.fixture
def recorder() -> Iterator[SpanRecorder]:
    recorder = SpanRecorder(service="ordering")
    tracing.install(recorder.provider)
    yield recorder
    tracing.uninstall()


def json_lines(
    handler: logging.Handler, emit: Callable[[logging.Logger], None]
) -> list[dict[str, object]]:
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logger = logging.getLogger("tests.observability.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_carries_the_service_the_trace_and_the_story(recorder: SpanRecorder) -> None:
    def emit(logger: logging.Logger) -> None:
        with message_context("story-1", "command-7"), tracing.message_span(_Cmd()):
            logger.info("paid %s", "invoice-3", extra={"message_type": "PayInvoiceCommand"})

    [line] = json_lines(json_handler("billing"), emit)
    [span] = recorder.spans()
    assert line["message"] == "paid invoice-3"
    assert line["level"] == "INFO"
    assert line["service"] == "billing"
    assert line["trace_id"] == span.trace_id
    assert line["span_id"] == span.span_id
    assert line["correlation_id"] == "story-1"
    assert line["causation_id"] == "command-7"
    assert line["message_type"] == "PayInvoiceCommand"
    assert line["message_id"] is None


def test_a_line_outside_any_story_is_still_one_json_object() -> None:
    [line] = json_lines(json_handler("ordering"), lambda logger: logger.warning('a "quoted"\nline'))
    assert line["message"] == 'a "quoted"\nline'
    assert line["trace_id"] is None
    assert line["correlation_id"] is None


def test_text_is_the_default_and_changes_nothing() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    configure_log_format("ordering", "text")
    assert root.handlers == before


class _Cmd:
    command_id = "command-7"
    correlation_id = "story-1"
    causation_id = None
