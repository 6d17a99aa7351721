"""Domain building blocks: aggregates, domain events and the event type registry."""
