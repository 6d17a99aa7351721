"""Ordering's domain: the `Order` aggregate, its value objects and events.

Plain Python on top of the core's `AggregateRoot` and `DomainEvent` - no web framework, no
database, no broker. Everything here can be read and tested on its own.
"""
