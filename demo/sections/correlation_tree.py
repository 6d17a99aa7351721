"""Section 9: the story of one order across both services, as one trace.

The first order's story is drawn from the spans both services recorded (the core's tracing,
kept in memory here; exported to Jaeger in compose), with each span's duration - so you see
where an order's time goes. The thing to notice: it is one trace, across the broker too. The
outbox row kept the context it was written in; the relay publishes as a child of the command
that wrote it (and links to the write); the consumer continues from the ``traceparent`` the
message carried. The confirmation leads back, parent by parent, to the order's creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan
from rich.tree import Tree

from billing_service.application import commands as billing_commands
from billing_service.domain import events as billing_events
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.observability.tracing import CORRELATION_ID
from demo.narration import Narrator
from demo.sections.common import classes_in, short
from demo.sections.story import Story
from demo.stack import Stack
from ordering_service.application import commands as ordering_commands
from ordering_service.domain import events as ordering_events


async def correlation_tree(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        9,
        "correlation",
        "The story of one order across both services",
        code=[
            "core/cqrs_ddd_core/observability/tracing.py",
            "core/cqrs_ddd_core/primitives/context.py",
        ],
        scenario=[
            "features/observability/one_order_one_trace.feature",
            "features/cross_context/order_payment.feature",
        ],
        story=(
            "Every command and event carries the story's correlation_id, and every span the "
            "services record carries the story's trace id - across the broker too, in the "
            "message's traceparent header. The tree below is the first order's trace, from the "
            "spans both services recorded, with each span's duration."
        ),
    )
    correlation = story.first_correlation
    spans = stack.spans.spans()
    roots_of_story = [
        s
        for s in spans
        if s.attributes is not None and s.attributes.get(CORRELATION_ID) == correlation
    ]
    trace_ids = {_ids(s)[0] for s in roots_of_story}
    nodes = {_ids(s)[1]: _Node(s) for s in spans if _ids(s)[0] in trace_ids}
    for node in nodes.values():
        if node.parent in nodes:
            nodes[node.parent].children.append(node)
    roots = [n for n in nodes.values() if n.parent not in nodes]
    tree = Tree(f"trace of correlation [bold]{short(correlation)}[/]")
    for root in sorted(roots, key=lambda n: n.start):
        _grow(tree, root, "-")
    narrator.show(tree)
    names = {n.name for n in nodes.values()}
    confirmed = next((n for n in nodes.values() if n.name == "command RecordPaymentCommand"), None)
    chain = [name for name in _path_to_root(nodes, confirmed) if name.startswith("command")]
    narrator.check(len(trace_ids) == 1, "one trace id for the whole story, in both services")
    narrator.check(
        len(roots) == 1 and roots[0].name == "command CreateOrderCommand",
        "one root: the CreateOrderCommand that started the story",
    )
    narrator.check(
        {
            "command CreateOrderCommand",
            "publish OrderCreated",
            "process OrderCreated",
            "command PayInvoiceCommand",
            "command TransferFundsCommand",
            "publish PaymentCaptured",
            "process PaymentCaptured",
            "command RecordPaymentCommand",
            "publish notifications.OrderConfirmed",
        }
        <= names,
        "the story crossed to billing and back",
    )
    narrator.check(
        chain
        == [
            "command RecordPaymentCommand",
            "command PayInvoiceCommand",
            "command CreateOrderCommand",
        ],
        "the confirmation leads back, parent by parent, to the order's creation",
    )


@dataclass
class _Node:
    span: ReadableSpan
    children: list[_Node] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def parent(self) -> int | None:
        return self.span.parent.span_id if self.span.parent is not None else None

    @property
    def start(self) -> int:
        return self.span.start_time or 0

    @property
    def milliseconds(self) -> float:
        return ((self.span.end_time or 0) - (self.span.start_time or 0)) / 1e6


def _ids(span: ReadableSpan) -> tuple[int, int]:
    context = span.get_span_context()
    return (context.trace_id, context.span_id) if context is not None else (0, 0)


def _grow(branch: Tree, node: _Node, parent_service: str) -> None:
    # A delivery belongs to the consuming queue's service ("billing.orders"); a command, a
    # write or a publish, to its message's service; the others, to their parent's.
    queue = str((node.span.attributes or {}).get("messaging.consumer.group.name", ""))
    service = parent_service
    if node.name.startswith("process ") and queue:
        service = queue.split(".", 1)[0]
    elif node.name.startswith(("command ", "outbox write ", "publish ")):
        message = node.name.rsplit(" ", 1)[-1].removeprefix("notifications.")
        service = _service_of(message)
    colour = {"ordering": "cyan", "billing": "magenta"}.get(service, "white")
    linked = " [dim](links to its outbox write)[/]" if node.span.links else ""
    child = branch.add(
        f"[{colour}]{service}[/] {node.name}  [bold]{node.milliseconds:.1f} ms[/]{linked}"
    )
    for grandchild in sorted(node.children, key=lambda n: n.start):
        _grow(child, grandchild, service)


def _path_to_root(nodes: dict[int, _Node], node: _Node | None) -> list[str]:
    path: list[str] = []
    while node is not None and len(path) < 50:
        path.append(node.name)
        node = nodes.get(node.parent or 0)
    return path


def _service_of(name: str) -> str:
    for service, modules in (
        ("ordering", (ordering_commands, ordering_events)),
        ("billing", (billing_commands, billing_events)),
    ):
        for module in modules:
            if any(
                cls.__name__ == name
                for cls in classes_in(module, Command) + classes_in(module, DomainEvent)
            ):
                return service
    return "-"
