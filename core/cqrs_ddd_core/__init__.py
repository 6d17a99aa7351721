"""cqrs_ddd_core: a small CQRS/DDD kernel - mediator, unit of work, locks, outbox, consumers."""
