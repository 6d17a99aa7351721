"""Section 9: the story of one order across both services.

The first order's story - every command and event of both services - is drawn as a tree of
which message caused which. The thing to notice: the tree is rebuilt from the ids the messages
carried alone (`correlation_id` for the story, `causation_id` for the parent), across the
broker too, and the confirmation leads back, parent by parent, to the order's creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.tree import Tree

from billing_service.application import commands as billing_commands
from billing_service.domain import events as billing_events
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.domain.events import DomainEvent
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
            "core/cqrs_ddd_core/primitives/context.py",
            "core/cqrs_ddd_core/cqrs/mediator.py",
        ],
        scenario=[
            "features/core/nested_commands.feature (correlation)",
            "features/cross_context/order_payment.feature",
        ],
        story=(
            "Every command and event carries the story's correlation_id and its direct parent's "
            "id as causation_id - across the broker too. The tree below is rebuilt from those "
            "ids alone: the commands as LoggingMiddleware logged them in both services, the "
            "events as the demo's queues received them."
        ),
    )
    correlation = story.first_correlation
    nodes: dict[str, _Node] = {}
    for command in stack.commands.of_story(correlation):
        nodes[command.command_id] = _Node(
            command.name, command.command_id, command.causation_id, _service_of(command.name)
        )
    for message in stack.tap.of_story(correlation):
        node = nodes.setdefault(
            message.event_id,
            _Node(
                message.event_type,
                message.event_id,
                message.causation_id,
                _service_of(message.event_type),
            ),
        )
        node.destinations.add(message.destination)
    roots = [n for n in nodes.values() if n.parent not in nodes]
    for node in nodes.values():
        if node.parent in nodes:
            nodes[node.parent].children.append(node)
    tree = Tree(f"correlation [bold]{short(correlation)}[/]")
    for root in roots:
        _grow(tree, root)
    narrator.show(tree)
    names = {n.name for n in nodes.values()}
    chain = _path_to_root(
        nodes, next((n for n in nodes.values() if n.name == "OrderConfirmed"), None)
    )
    narrator.check(
        len(roots) == 1 and roots[0].name == "CreateOrderCommand",
        "one root: the CreateOrderCommand that started the story",
    )
    narrator.check(
        {
            "CreateOrderCommand",
            "OrderCreated",
            "PayInvoiceCommand",
            "TransferFundsCommand",
            "PaymentCaptured",
            "RecordPaymentCommand",
            "OrderConfirmed",
        }
        <= names,
        "the story crossed to billing and back",
    )
    narrator.check(
        chain
        == [
            "OrderConfirmed",
            "RecordPaymentCommand",
            "PaymentCaptured",
            "PayInvoiceCommand",
            "OrderCreated",
            "CreateOrderCommand",
        ],
        "the confirmation leads back, parent by parent, to the order's creation",
    )


@dataclass
class _Node:
    name: str
    id: str
    parent: str | None
    service: str
    destinations: set[str] = field(default_factory=set)
    children: list[_Node] = field(default_factory=list)


def _grow(branch: Tree, node: _Node) -> None:
    where = f" -> {', '.join(sorted(node.destinations))}" if node.destinations else ""
    colour = "cyan" if node.service == "ordering" else "magenta"
    child = branch.add(f"[{colour}]{node.service}[/] {node.name}{where} [dim]{short(node.id)}[/]")
    for grandchild in node.children:
        _grow(child, grandchild)


def _path_to_root(nodes: dict[str, _Node], node: _Node | None) -> list[str]:
    path: list[str] = []
    while node is not None and len(path) < 20:
        path.append(node.name)
        node = nodes.get(node.parent or "")
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
    return "?"
