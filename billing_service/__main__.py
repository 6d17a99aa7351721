"""``python -m billing_service``: billing alone in this process, configured from the environment.

``PORT`` (8002), ``HOST`` (127.0.0.1: this machine only), ``DATABASE_URL`` (a SQLite file under
var/; ``postgresql+asyncpg://...`` for PostgreSQL), ``AMQP_URL`` (RabbitMQ) and
``MERCHANT_ACCOUNT``, read by `BillingSettings`. `run_service` (the core's host) configures
logging, serves the app under uvicorn and, on SIGTERM, stops the service gracefully: stop
consuming, finish in flight, stop the relay.
"""

from __future__ import annotations

from billing_service.bootstrap import BillingSettings, build
from cqrs_ddd_core.adapters.host.run import run_service

if __name__ == "__main__":
    run_service(lambda: build(BillingSettings()))
