"""Small, whole applications to copy: each runs with ``uv run python -m examples.<name>``.

* `outbox_inbox` - a ticket sold, its event relayed through the transactional outbox, and a
  duplicate delivery handled once by an idempotent consumer (the inbox).
* `locked_transfer` - concurrent transfers between wallets under pessimistic locks: no
  deadlock, no lost update, the total conserved.
* `nested_commands` - a command that sends commands, all in one unit of work: all or nothing.
* `deadline` - a durable deadline that fires unless it is cancelled first.

Each uses only ``cqrs_ddd_core`` (install ``cqrs-ddd-core[sqlalchemy]``), a SQLite file and the
in-process broker, and builds its tables with its own first migration on the core's branch
(``migrations/``): the template a new service starts from. tests/examples/ runs every one.
"""
