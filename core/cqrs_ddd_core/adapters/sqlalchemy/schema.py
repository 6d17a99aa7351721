"""`core_metadata`: the tables the core's SQL adapters own (outbox, inbox, locks, idempotency
keys).

Each adapter module defines its table on this one `MetaData`, so the migrations - and a
reader - find every core table in one place. A service's own tables live on its own metadata.
"""

from __future__ import annotations

from sqlalchemy import MetaData

# Deterministic constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

core_metadata = MetaData(naming_convention=NAMING_CONVENTION)
