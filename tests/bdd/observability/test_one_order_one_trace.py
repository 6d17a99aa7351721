"""Scenarios: features/observability/one_order_one_trace.feature, in both modes.

The order is placed over HTTP with a ``traceparent`` the test chose, so "the order's trace" is
known up front; the steps then read the spans the services recorded (in memory embedded, through
an OTLP collector as processes) and check the shape: one trace id for everything the story
caused, consumers as children of the publish, nested commands as children of their parents, the
relay's publish linked to the write. "Eventually" steps poll: spans are exported in batches.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.cross_context.story import Story, eventually, story_messages
from tests.bdd.observability.spans import RecordedSpan
from tests.bdd.observability.traced import Traced, new_traceparent
from tests.conftest import Run

scenarios("observability/one_order_one_trace.feature")

pytestmark = pytest.mark.usefixtures("traced")

CORRELATION_ID = "cqrs.correlation_id"


def trace_of(traced: Traced, story: Story) -> list[RecordedSpan]:
    return [span for span in traced.spans() if span.trace_id == story.facts["trace_id"]]


def named(spans: list[RecordedSpan], name: str) -> list[RecordedSpan]:
    found = [span for span in spans if span.name == name]
    assert found, f"no span {name!r} among {sorted({s.name for s in spans})}"
    return found


# --- steps ---------------------------------------------------------------------------------


@given("ordering and billing are running with tracing on")
def running(run: Run, story: Story) -> None:
    assert run(story.deployment.healthy), story.deployment.diagnostics()


@given(parsers.parse('billing has account "{name}" with "{balance}"'))
def billing_account(run: Run, story: Story, name: str, balance: str) -> None:
    run(story.deployment.open_account, story.account_id(name), Decimal(balance))


@when(parsers.parse('customer "{customer}" orders {quantity:d} "{sku}" at "{price}" over HTTP'))
def order_over_http(
    run: Run, traced: Traced, story: Story, customer: str, quantity: int, sku: str, price: str
) -> None:
    traceparent, trace_id = new_traceparent()
    items = [{"sku": sku, "quantity": quantity, "unit_price": price}]
    story.facts["trace_id"] = trace_id
    story.order_id = run(
        traced.place_order_over_http, story.account_id(customer), items, traceparent
    )


@then(parsers.parse("the order is eventually {status:w}"))
def order_is_eventually(run: Run, story: Story, status: str) -> None:
    async def reached() -> bool:
        return (await story.deployment.order(story.order_id))["status"] == status

    eventually(run, story, reached, f"order {story.order_id} reaching {status}")


@given(
    parsers.parse(
        'customer "{customer}" ordered {quantity:d} "{sku}" at "{price}" over HTTP '
        "and the order was confirmed"
    )
)
def ordered_and_confirmed(
    run: Run, traced: Traced, story: Story, customer: str, quantity: int, sku: str, price: str
) -> None:
    order_over_http(run, traced, story, customer, quantity, sku, price)
    order_is_eventually(run, story, "CONFIRMED")
    trace_holds(run, traced, story, "command RecordPaymentCommand", "handle OrderCreated", "")


@then(parsers.parse('the order\'s trace eventually holds "{first}", "{second}" and "{third}"'))
def trace_holds(
    run: Run, traced: Traced, story: Story, first: str, second: str, third: str
) -> None:
    wanted = {name for name in (first, second, third) if name}

    async def recorded() -> bool:
        return wanted <= {span.name for span in trace_of(traced, story)}

    eventually(run, story, recorded, f"spans {sorted(wanted)} in the order's trace")


@then("every span of the order's story has the order's trace id")
def one_trace(run: Run, traced: Traced, story: Story) -> None:
    [created] = named(trace_of(traced, story), "command CreateOrderCommand")
    correlation_id = created.attributes[CORRELATION_ID]

    def of_the_story() -> list[RecordedSpan]:
        return [s for s in traced.spans() if s.attributes.get(CORRELATION_ID) == correlation_id]

    # Both services, the relays and the consumers: more than the HTTP side alone. The consumer's
    # span ends after its commit (which made the order CONFIRMED) and leaves the process in the
    # next export batch, so it is waited for, not expected at once.
    wanted = {"command PayInvoiceCommand", "process PaymentCaptured"}

    async def recorded() -> bool:
        return wanted <= {s.name for s in of_the_story()}

    eventually(run, story, recorded, f"spans {sorted(wanted)} of the story")
    elsewhere = [s.name for s in of_the_story() if s.trace_id != story.facts["trace_id"]]
    assert elsewhere == [], f"spans of the story in another trace: {elsewhere}"


@then("the trace holds spans of both services")
def both_services(traced: Traced, story: Story) -> None:
    assert {span.service for span in trace_of(traced, story)} == traced.services


@then(parsers.parse('"{child}" is a child of "{parent}"'))
def child_of(run: Run, traced: Traced, story: Story, child: str, parent: str) -> None:
    trace_holds(run, traced, story, child, parent, "")
    spans = trace_of(traced, story)
    parents = {span.span_id for span in named(spans, parent)}
    for span in named(spans, child):
        assert span.parent_id in parents, f"{child} {span.span_id} has parent {span.parent_id}"


@then(parsers.parse('"{source}" links to "{target}"'))
def links_to(run: Run, traced: Traced, story: Story, source: str, target: str) -> None:
    trace_holds(run, traced, story, source, target, "")
    spans = trace_of(traced, story)
    [write] = named(spans, target)
    for span in named(spans, source):
        assert span.links == (write.span_id,), f"{source} links to {span.links}"
        assert span.parent_id != write.span_id, f"{source} is a child of the write, not a link"


@when("the broker delivers the order's OrderCreated message again")
def redeliver(run: Run, story: Story) -> None:
    [original] = [m for m in story_messages(run, story) if m.topic == "OrderCreated"]
    story.facts["original"] = original
    run(story.deployment.deliver_again, original)


@then("the order's trace eventually holds an inbox check of OrderCreated marked duplicate")
def duplicate_check(run: Run, traced: Traced, story: Story) -> None:
    event_id = story.facts["original"].payload["event_id"]

    def checks(duplicate: bool) -> list[RecordedSpan]:
        return [
            span
            for span in trace_of(traced, story)
            if span.name == "inbox check"
            and span.attributes.get("messaging.message.id") == event_id
            and span.attributes.get("cqrs.inbox.duplicate") is duplicate
        ]

    async def seen() -> bool:
        return bool(checks(True))

    eventually(run, story, seen, f"an inbox-duplicate span for {event_id}")
    assert len(checks(False)) == 1, "the first delivery was checked once and found new"


@then(parsers.parse('the order\'s trace holds exactly one "{name}"'))
def exactly_one(traced: Traced, story: Story, name: str) -> None:
    assert len(named(trace_of(traced, story), name)) == 1


@then(parsers.parse("{service}'s log lines of the story are JSON carrying the order's trace id"))
def log_lines_carry_the_trace(traced: Traced, story: Story, service: str) -> None:
    [created] = named(trace_of(traced, story), "command CreateOrderCommand")
    correlation_id = created.attributes[CORRELATION_ID]
    lines = [
        line
        for line in traced.json_log_lines(service)
        if line.get("correlation_id") == correlation_id
    ]
    assert lines, f"no JSON log line of {service} with correlation id {correlation_id}"
    assert {line["trace_id"] for line in lines} == {story.facts["trace_id"]}
    assert all(line["span_id"] for line in lines)
    assert {line["service"] for line in lines} <= traced.services
    assert "PayInvoiceCommand" in {line["message_type"] for line in lines}
