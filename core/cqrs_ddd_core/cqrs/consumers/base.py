"""`BaseEventConsumer`: broker messages in, typed domain events out, handled exactly once.

Lifecycle of one message: take ``event_type`` from the payload -> hydrate it through this
service's `EventTypeRegistry` -> dispatch it to the in-process handlers. The things to notice:

* **Nothing is acknowledged that was not processed.** A failing handler's exception goes back
  to the broker, which redelivers and finally dead-letters the message with the reason. A
  message that can never work (no ``event_type``, unknown type, invalid fields) raises
  `PoisonMessageError`, so the broker dead-letters it at once instead of retrying in vain.
* **Exactly-once effect.** With ``uow_factory`` the consumer opens the unit of work itself and
  makes it the current one, so whatever the handlers do - including the commands they send
  through the mediator, which join it as nested commands - commits once. With an ``inbox`` the
  record "processed" is written in that same transaction, so two copies racing cannot both
  commit. The check "already processed?" that acknowledges a duplicate with no effect is by
  default a short read made before the transaction begins, so the database is never held while
  the handlers wait for resource locks kept elsewhere (a lock table, Redis). When the handlers
  take no such locks - none at all, or only the transaction's own - ``check_inbox_inside``
  makes the check the first statement of the message's transaction, and the record too: an
  insert that finds the message recorded already is the duplicate. One transaction per message
  and one statement for the inbox, instead of two of each.
  The inbox key is the event's id, which every copy of a message carries: a consumer with an
  inbox refuses a message without one as poison.

Scenarios: features/core/consumers.feature, features/core/inbox.feature.
Guide: docs/components/consumers.md, docs/patterns/inbox-and-dead-letters.md.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.registry import HandlerRegistration, HandlerRegistry
from cqrs_ddd_core.cqrs.scope import unit_of_work_scope
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.observability import metrics, tracing
from cqrs_ddd_core.ports.event_dispatcher import IEventDispatcher
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.messaging import IMessageConsumer
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import (
    HandlerWiringError,
    MessageHydrationError,
    PoisonMessageError,
    UnknownMessageTypeError,
)
from cqrs_ddd_core.primitives.ids import new_id

logger = logging.getLogger(__name__)


class ConsumerStoppedError(RuntimeError):
    """A message reached a stopped consumer: it is refused (not acknowledged), never lost."""


class BaseEventConsumer:
    """Subscribes to topics, hydrates each message and dispatches it to handlers.

    ``dispatcher`` receives the events; without one, a dispatcher is built. Handlers in
    ``handler_registry`` are registered on it, and their event types are known to the
    hydration ``registry`` unless one is given. ``handler_factory`` is how this consumer builds
    them: it is called per event with each handler's class - a class as registered, or the
    class of a registered instance - so every handler gets this process's dependencies; a
    function or a zero-argument factory has no class to build, and is an error. (A dispatcher
    built with ``EventDispatcher(handler_registry=...)`` calls that registry's handlers itself:
    pass the registry to one of the two, not both - both is an error.)
    ``inbox`` needs ``uow_factory``; ``consumer_name`` (default: the queue name) is the inbox
    key, so give every consumer of a service its own. ``check_inbox_inside``: record the
    message in the inbox as its transaction's first write, which is also the check (see the
    module's docstring for when).
    """

    def __init__(
        self,
        broker: IMessageConsumer,
        topics: Sequence[str],
        dispatcher: IEventDispatcher | None = None,
        registry: EventTypeRegistry | None = None,
        handler_registry: HandlerRegistry | None = None,
        handler_factory: Callable[[type], Any] | None = None,
        queue_name: str | None = None,
        exchange_name: str | None = None,
        *,
        inbox: IInboxStorage | None = None,
        consumer_name: str | None = None,
        uow_factory: Callable[[], UnitOfWork] | None = None,
        check_inbox_inside: bool = False,
    ) -> None:
        if handler_factory is not None and handler_registry is None:
            raise HandlerWiringError(
                "BaseEventConsumer got a handler_factory but no handler_registry: the factory "
                "builds the handlers of that registry and would build nothing; pass "
                "handler_registry=..., or leave handler_factory out"
            )
        if inbox is not None and uow_factory is None:
            raise ValueError(
                "BaseEventConsumer with an inbox needs uow_factory: the inbox record must "
                "commit in the same unit of work as the handlers' effect"
            )
        self.broker = broker
        self.topics = list(topics)
        self.queue_name = queue_name
        self.exchange_name = exchange_name
        self.consumer_name = consumer_name or queue_name or type(self).__name__
        self.dispatcher: IEventDispatcher = dispatcher or EventDispatcher()
        self.registry = registry or EventTypeRegistry()
        self.inbox = inbox
        self.uow_factory = uow_factory
        self.check_inbox_inside = check_inbox_inside
        self.processed = 0
        self.duplicates = 0
        self._started = False
        self._stopped = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        if handler_registry is not None:
            self._wire(handler_registry, handler_factory, learn_types=registry is None)

    def _wire(
        self,
        handler_registry: HandlerRegistry,
        handler_factory: Callable[[type], Any] | None,
        *,
        learn_types: bool,
    ) -> None:
        for event_type in handler_registry.event_types():
            if learn_types and issubclass(event_type, DomainEvent):
                self.registry.register(event_type.type_name(), event_type)
            for registration in handler_registry.get_event_registrations(event_type):
                handler = registration.source
                if handler_factory is not None:
                    # A zero-argument factory: a fresh handler per event, built our way.
                    handler = functools.partial(
                        handler_factory, _handler_class(event_type, registration)
                    )
                self.dispatcher.register(event_type, handler)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to every topic; returns once subscribed (calling it again does nothing).

        An inbox that cannot work (its table is missing) raises here, before any message is
        taken, rather than dead-lettering every delivery.
        """
        if self._started:
            return
        if self.inbox is not None:
            await self.inbox.verify()
        self._stopped = False
        options: dict[str, Any] = {}
        if self.exchange_name is not None:
            options["exchange_name"] = self.exchange_name
        subscribed: list[str] = []
        try:
            for topic in self.topics:
                await self.broker.subscribe(topic, self.handle, self.queue_name, **options)
                subscribed.append(topic)
        except BaseException:
            # Started only when every topic is: a retried start() must subscribe again.
            for topic in subscribed:
                await self.broker.unsubscribe(topic, self.handle, self.queue_name)
            raise
        self._started = True

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, then let the ones in hand finish (up to ``timeout``)."""
        self._stopped = True
        if self._started:
            for topic in self.topics:
                await self.broker.unsubscribe(topic, self.handle, self.queue_name)
        self._started = False
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            # Not fatal to the shutdown: unfinished messages are unacknowledged, so the broker
            # delivers them again; the caller still has a relay and connections to close.
            logger.warning(
                "%s: %d message(s) still in hand after %.1fs; the broker will redeliver them",
                self.consumer_name,
                self._in_flight,
                timeout,
            )

    # --- one message ---------------------------------------------------------------------

    async def handle(self, payload: dict[str, Any]) -> None:
        """Process one delivered payload; raising means "not processed" to the broker."""
        if self._stopped:
            raise ConsumerStoppedError(
                f"consumer {self.consumer_name!r} is stopped; the broker keeps the message"
            )
        self._in_flight += 1
        self._idle.clear()
        try:
            event = self.hydrate(payload)
            if self.uow_factory is None:
                with tracing.handling(self.consumer_name, event):
                    await self.dispatcher.dispatch(event)
                self.processed += 1
                metrics.consumer_handled(self.consumer_name)
            else:
                await self._handle_in_unit_of_work(event, self.uow_factory)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    def hydrate(self, payload: Any) -> DomainEvent:
        """The typed event of ``payload``; `PoisonMessageError` when it can never be one."""
        if not isinstance(payload, dict):
            raise PoisonMessageError(
                f"message body is a {type(payload).__name__}, not a JSON object with 'event_type'"
            )
        name = payload.get("event_type")
        message_id = payload.get("event_id")
        if not isinstance(name, str) or not name:
            raise PoisonMessageError("message has no 'event_type'", message_id=message_id)
        try:
            event = self.registry.hydrate(name, payload)
        except UnknownMessageTypeError:
            raise PoisonMessageError(
                f"unknown event type {name!r} for consumer {self.consumer_name!r}: "
                f"register it in the consumer's EventTypeRegistry",
                message_id=message_id,
            ) from None
        except MessageHydrationError as exc:
            raise PoisonMessageError(str(exc), message_id=message_id) from exc
        if self.inbox is not None and not isinstance(message_id, str):
            # The inbox key: without it every redelivery would look new and apply again.
            raise PoisonMessageError(
                f"{name} message has no 'event_id', so its redeliveries cannot be recognised"
            )
        return event

    async def _handle_in_unit_of_work(
        self, event: DomainEvent, uow_factory: Callable[[], UnitOfWork]
    ) -> None:
        # By default the duplicate check is a short read of its own, before the unit of work:
        # opening the transaction here would hold the database (on SQLite, its write lock)
        # while the handlers wait for resource locks kept elsewhere - the opposite order to an
        # HTTP command's. With check_inbox_inside the record is the transaction's first write,
        # and finding it there already is the check. Either way, a copy racing past the check
        # cannot commit: it meets the other copy's record, in the transaction.
        inbox = self.inbox
        check_inside = self.check_inbox_inside
        if inbox is not None and not check_inside and await self._seen_before(event, inbox):
            self._acknowledge_duplicate(event)
            return
        uow = uow_factory()
        # The event is the root message here: commands the handlers send join this unit of
        # work as nested commands, and re-enter locks under this handling's session. A fresh
        # session per handling, not the event's id: a redelivery that overlaps the first
        # delivery (a stalled replica, a lost ack) must wait for its locks, not re-enter them.
        scope = unit_of_work_scope(uow, session_id=new_id(), correlation_id=event.correlation_id)
        async with uow:
            if (
                inbox is not None
                and check_inside
                and not await self._record_first(inbox, event, uow)
            ):
                self._acknowledge_duplicate(event)
                return  # leaving the block rolls back: nothing was written
            with tracing.handling(self.consumer_name, event):
                with scope:
                    await self.dispatcher.dispatch(event)
                    if inbox is not None and not check_inside:
                        await inbox.mark_processed(event.event_id, self.consumer_name, uow=uow)
                await uow.commit()
        self.processed += 1
        metrics.consumer_handled(self.consumer_name)

    async def _seen_before(self, event: DomainEvent, inbox: IInboxStorage) -> bool:
        with tracing.inbox_check(self.consumer_name, event.event_id):
            duplicate = await inbox.has_processed(event.event_id, self.consumer_name)
            tracing.note(tracing.INBOX_DUPLICATE, duplicate)
        return duplicate

    async def _record_first(
        self, inbox: IInboxStorage, event: DomainEvent, uow: UnitOfWork
    ) -> bool:
        """Record the message in ``uow`` before its effect; False when it was recorded before."""
        with tracing.inbox_check(self.consumer_name, event.event_id):
            new = await inbox.mark_processed_if_new(event.event_id, self.consumer_name, uow=uow)
            tracing.note(tracing.INBOX_DUPLICATE, not new)
        return new

    def _acknowledge_duplicate(self, event: DomainEvent) -> None:
        self.duplicates += 1
        metrics.consumer_duplicate(self.consumer_name)
        logger.info(
            "%s: %s %s was processed already; acknowledged without effect",
            self.consumer_name,
            event.type_name(),
            event.event_id,
            extra={"message_type": event.type_name(), "message_id": event.event_id},
        )


def _handler_class(event_type: type, registration: HandlerRegistration) -> type:
    """The class ``handler_factory`` builds for ``registration``; never silently none."""
    if registration.is_class:
        return registration.source  # type: ignore[no-any-return]
    if not registration.is_factory and hasattr(registration.source, "handle"):
        return type(registration.source)
    raise HandlerWiringError(
        f"handler_factory builds handlers from their classes, but {event_type.__name__} has "
        f"{registration.describe()}, which has none: register a handler class (or an "
        f"instance of one), or leave handler_factory out"
    )
