"""`service_app`: the Litestar app of a service - its own routes plus what every service has.

A service's ``api.py`` holds only its routes; this adds the health probes (``GET /health/live``,
``GET /health/ready``) and ``GET /notifications`` (routes.py), the OpenAPI pages with their
assets served by the service itself (openapi.py), the error mapping (errors.py), bearer-token
authentication (auth.py: every route but ``/health*`` and ``/schema*``, verified with
``auth_secret``), the exact decoding of JSON bodies (json_body.py), the ``Idempotency-Key``
of every ``POST`` (idempotency.py) and the dependencies the routes ask for by name. The thing
to notice: a route asks for ``commands: Commands`` (an `ICommandBus`) to change state and
``queries: Queries`` (an `IQueryBus`) to read it - the same mediator behind both, but a reader
sees at the signature which routes may write - and for ``actor: Caller``, who asked, to put on
its command or query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Litestar
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.plugins import PluginProtocol

from cqrs_ddd_core.adapters.litestar.auth import PROVIDE_ACTOR, bearer_auth
from cqrs_ddd_core.adapters.litestar.errors import EXCEPTION_HANDLERS
from cqrs_ddd_core.adapters.litestar.idempotency import IdempotentPosts
from cqrs_ddd_core.adapters.litestar.json_body import ExactJSONRequest
from cqrs_ddd_core.adapters.litestar.openapi import openapi_assets, openapi_config
from cqrs_ddd_core.adapters.litestar.routes import HealthCheck, live, metrics, notifications, ready
from cqrs_ddd_core.cqrs.publishers.notifications import NotificationLog
from cqrs_ddd_core.observability.tracing import installed_provider
from cqrs_ddd_core.ports.bus import ICommandBus, IQueryBus

Hook = Callable[[], Awaitable[None]]
Commands = NamedDependency[ICommandBus]
"""A route parameter ``commands: Commands``: the bus the route sends its command through."""
Queries = NamedDependency[IQueryBus]
"""A route parameter ``queries: Queries``: the bus the route sends its queries through."""


def service_app(
    route_handlers: Sequence[HTTPRouteHandler],
    *,
    commands: ICommandBus,
    queries: IQueryBus,
    health_check: HealthCheck,
    auth_secret: str,
    notification_feed: NotificationLog | None = None,
    idempotency: IdempotentPosts | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> Litestar:
    """The app over a service's routes; hooks start and stop the service with the app.

    ``auth_secret`` verifies the callers' bearer tokens (HS256); without one there is no app.
    ``idempotency``: how its ``POST``s honour ``Idempotency-Key`` (without it, the header is
    ignored). It runs inside authentication, which tells it whose keys a request uses.
    """
    if not auth_secret:
        raise ValueError("service_app needs auth_secret: every route but /health asks for a token")

    def provide(value: Any) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    return Litestar(
        route_handlers=[*route_handlers, live, ready, notifications, metrics, openapi_assets()],
        openapi_config=openapi_config(),
        # Authentication first (outermost): the idempotency keys belong to the caller it finds.
        middleware=[bearer_auth(auth_secret), *([idempotency] if idempotency is not None else [])],
        dependencies={
            "actor": PROVIDE_ACTOR,
            "commands": provide(commands),
            "queries": provide(queries),
            "check_health": provide(health_check),
            "notification_feed": provide(notification_feed or NotificationLog()),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=ExactJSONRequest,  # JSON numbers as decimals, bad bodies as 400s
        logging_config=None,  # the process's logging stays in force (adapters/host/run.py)
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
        plugins=_tracing_plugins(),
    )


# Probes and scrapes would bury the stories in traces of their own.
UNTRACED_PATHS = ["^/health", "^/metrics"]


def _tracing_plugins() -> list[PluginProtocol]:
    """Litestar's OpenTelemetry plugin - a server span per request - when tracing is on."""
    provider = installed_provider()
    if provider is None:
        return []  # off: not even the middleware
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    config = OpenTelemetryConfig(
        tracer_provider=provider, exclude=UNTRACED_PATHS, exclude_spans=["receive", "send"]
    )
    return [OpenTelemetryPlugin(config)]
