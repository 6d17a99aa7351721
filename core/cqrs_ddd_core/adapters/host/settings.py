"""`ServiceSettings`: what every service reads from its environment, typed and validated.

Each field is read from the environment variable of the same name in capitals (``PORT``,
``HOST``, ``DATABASE_URL``, ``AMQP_URL``...); a service subclasses it to change a default or
add its own setting (billing's ``MERCHANT_ACCOUNT``). The thing to notice: nothing parses
strings by hand - ``PORT=abc`` stops the process at start with the field named, and a test
builds settings as an ordinary object: ``OrderingSettings(database_url="memory")``.

``HOST`` defaults to ``127.0.0.1``: a service started on a laptop or a server answers only on
that machine until someone decides otherwise. A container sets ``HOST=0.0.0.0`` (the
Dockerfile does), because there the loopback is the container's own and the published port
decides who can reach it. Guide: docs/deployment.md.

``AUTH_SECRET`` verifies the callers' bearer tokens. It has no default on purpose: a service
with a secret everyone can read in this repository would accept anyone's token, so
``python -m <service>`` refuses to start without one (`run_service`); it is a `SecretStr`, so
no repr, log line or error shows it.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK = "127.0.0.1"
"""Where a service listens unless ``HOST`` says otherwise: this machine only."""
MIN_SECRET_BYTES = 32
MEMORY = "memory"
"""``DATABASE_URL=memory``: in-process storage, gone when the process ends (tests)."""


class ServiceSettings(BaseSettings):
    """The settings every service has; subclass it for a service's defaults and additions."""

    # hide_input_in_errors: a refused URL is not echoed into the log - it may hold a password.
    model_config = SettingsConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    port: int = 8000
    host: str = LOOPBACK
    database_url: str = MEMORY
    database_pool_size: PositiveInt | None = None
    database_max_overflow: NonNegativeInt | None = None
    """Connections a process keeps open to its database, and how many more it may open under
    load; unset, the backend's defaults: 5 + 10 on PostgreSQL, 2 + 2 on SQLite (one writer at
    a time, see `create_engine`). Every replica may reach pool + overflow, so size them against
    the server's limit (PostgreSQL's ``max_connections``, 100): replicas x the sum below it."""
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
    ready_write_timeout_seconds: PositiveFloat = 2.0
    """Readiness: how long each database may take to accept a write (see readiness.py)."""
    relay_stuck_seconds: PositiveFloat = 60.0
    """Readiness: the outbox relay is stuck when it finished no batch for this long."""

    @model_validator(mode="after")
    def _stuck_is_longer_than_idle(self) -> Self:
        # An idle relay finishes a batch every poll interval: a shorter limit calls it stuck.
        if self.relay_stuck_seconds <= self.outbox_poll_interval:
            raise ValueError(
                f"RELAY_STUCK_SECONDS ({self.relay_stuck_seconds}) must be longer than "
                f"OUTBOX_POLL_INTERVAL ({self.outbox_poll_interval}): an idle relay finishes a "
                f"batch only once per poll interval"
            )
        return self

    auth_secret: SecretStr | None = None
    """The HS256 key bearer tokens are signed with (32 bytes at least); None: serve no HTTP."""

    @field_validator("auth_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"AUTH_SECRET must be at least {MIN_SECRET_BYTES} bytes (HS256 keys shorter "
                f"than its hash are guessable); generate one with: openssl rand -hex 32"
            )
        return secret

    def require_auth_secret(self) -> str:
        """The secret, or a `MissingAuthSecretError` saying how to give one."""
        if self.auth_secret is None:
            raise MissingAuthSecretError
        return self.auth_secret.get_secret_value()


class MissingAuthSecretError(RuntimeError):
    """The service has no ``AUTH_SECRET``, so it could not tell one caller from another."""

    def __init__(self) -> None:
        super().__init__(
            f"AUTH_SECRET is not set: the service verifies its callers' bearer tokens with it. "
            f"Set it to a secret of {MIN_SECRET_BYTES}+ bytes (openssl rand -hex 32), or use "
            f"`just serve` / `just up-local`, which fall back to a development secret."
        )
