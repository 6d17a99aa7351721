"""Publishers: where an event goes when it leaves its handler.

`route_table.RouteTable` sends each event type to the destinations a composition root lists
for it (the services' way); `routing.TopicRoutingPublisher` chooses a publisher per message
(the class's `@route_to` destination, then an explicit route by topic, then a default);
`decorators.route_to` marks event classes; `handler.PublishingEventHandler` bridges the
in-process `EventDispatcher` to any publisher. Scenarios: features/core/routing.feature.
Guide: docs/components/publishers.md, docs/patterns/routing.md.
"""
