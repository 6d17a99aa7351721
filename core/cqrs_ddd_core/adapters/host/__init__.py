"""The service host: what every service of this repository does the same way.

A service's `bootstrap.py` says only what is its own - settings, handlers, middleware, the
route table, consumers - and hands the rest to the host, one concept a file:

* `settings.ServiceSettings` - ``PORT``, ``HOST``, ``DATABASE_URL``, ``AMQP_URL`` from the
  environment (pydantic-settings), which each service extends;
* `storage.open_storage` - unit of work, outbox, inbox (and locks) from a database URL;
* `locks.shared_lock_strategy` - where the locks live next to a SQLite or PostgreSQL database;
* `plumbing.Plumbing` - storage, broker channel and outbox relay, opened from the settings;
* `service.ServiceHost` - the lifecycle (start and stop in the right order), health and the
  HTTP app; `run.run_service` serves it under uvicorn.

Guide: docs/patterns/composition-root.md.
"""
