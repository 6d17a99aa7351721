"""``python -m ordering_service``: ordering alone in this process, configured from the environment.

``PORT`` (8001), ``DATABASE_URL`` (a SQLite file under var/; ``postgresql+asyncpg://...`` for
PostgreSQL) and ``AMQP_URL`` (RabbitMQ). On SIGTERM or Ctrl-C uvicorn stops taking requests
and finishes those in flight; the app's shutdown hook then stops consuming, lets in-flight
messages finish and stops the outbox relay (`OrderingService.stop`).
"""

from __future__ import annotations

import logging
import os

import uvicorn

from ordering_service import bootstrap


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = bootstrap.OrderingSettings.from_env()
    service = bootstrap.build(settings)
    uvicorn.run(
        service.create_app(),
        host=os.environ.get("HOST", "0.0.0.0"),
        port=settings.port,
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
