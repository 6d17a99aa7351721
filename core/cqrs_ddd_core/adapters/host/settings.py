"""`ServiceSettings`: what every service reads from its environment, typed and validated.

Each field is read from the environment variable of the same name in capitals (``PORT``,
``HOST``, ``DATABASE_URL``, ``AMQP_URL``...); a service subclasses it to change a default or
add its own setting (billing's ``MERCHANT_ACCOUNT``). The thing to notice: nothing parses
strings by hand - ``PORT=abc`` stops the process at start with the field named, and a test
builds settings as an ordinary object: ``OrderingSettings(database_url="memory")``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MEMORY = "memory"
"""``DATABASE_URL=memory``: in-process storage, gone when the process ends (tests)."""


class ServiceSettings(BaseSettings):
    """The settings every service has; subclass it for a service's defaults and additions."""

    # hide_input_in_errors: a refused URL is not echoed into the log - it may hold a password.
    model_config = SettingsConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    port: int = 8000
    host: str = "0.0.0.0"
    database_url: str = MEMORY
    amqp_url: str = "amqp://guest:guest@localhost:5672/"
    exchange_name: str = "events"
    outbox_poll_interval: float = 1.0
    log_format: Literal["text", "json"] = "text"
    """``LOG_FORMAT=json``: one JSON object per log line, with the trace and the story's ids."""
    # Retention (cqrs/outbox/retention.py): published outbox rows and inbox records older
    # than these are deleted by the relay every RETENTION_INTERVAL seconds.
    outbox_retention_days: float = Field(default=7.0, gt=0)
    inbox_retention_days: float = Field(default=14.0, gt=0)
    retention_interval: float = Field(default=3600.0, gt=0)
    # How long the response to a request with an Idempotency-Key is replayed to its retries;
    # every stored response purges expired ones (docs/patterns/idempotency.md).
    idempotency_ttl_seconds: float = Field(default=24 * 60 * 60, gt=0)
