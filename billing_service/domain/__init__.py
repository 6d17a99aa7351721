"""Billing's domain: `Account` and `Invoice` aggregates, money and events.

Plain Python on top of the core's `AggregateRoot` and `DomainEvent` - no web framework, no
database, no broker.
"""
