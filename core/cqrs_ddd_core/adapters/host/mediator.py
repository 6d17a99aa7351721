"""`build_mediator`: a mediator with a service's handlers registered, over its unit of work.

A service writes one function, ``register_handlers(registry, bus)``, that registers each of its
command, query and in-process event handlers; handlers that send nested commands get ``bus`` -
the mediator itself, which exists only once the registry does. This builds the two in the
right order. Tests call it with the same function and a middleware registry of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork

RegisterHandlers = Callable[[HandlerRegistry, ICommandBus], None]


def build_mediator(
    register_handlers: RegisterHandlers,
    uow_factory: Callable[[], UnitOfWork],
    middleware: MiddlewareRegistry | None = None,
) -> Mediator:
    """The mediator with every handler ``register_handlers`` registers."""
    registry = HandlerRegistry()
    mediator = Mediator(registry=registry, uow_factory=uow_factory, middleware_registry=middleware)
    register_handlers(registry, mediator)
    return mediator
