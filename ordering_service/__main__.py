"""``python -m ordering_service``: ordering alone in this process, configured from the environment.

``PORT`` (8001), ``HOST`` (127.0.0.1: this machine only), ``DATABASE_URL`` (a SQLite file under
var/; ``postgresql+asyncpg://...`` for PostgreSQL) and ``AMQP_URL`` (RabbitMQ), read by
`OrderingSettings`. The thing to notice: nothing here but the choice of service - `run_service`
(the core's host) configures logging, serves the app under uvicorn and, on SIGTERM, stops the
service gracefully.
"""

from __future__ import annotations

from cqrs_ddd_core.adapters.host.run import run_service
from ordering_service.bootstrap import OrderingSettings, build

if __name__ == "__main__":
    run_service(lambda: build(OrderingSettings()))
