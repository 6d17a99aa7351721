"""Redis adapters (redis-py's asyncio client): `RedisLockStrategy`.

Locks shared by every process that reaches one Redis, each decision one server-side script.
Guide: docs/components/critical-section.md.
"""

from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy

__all__ = ["RedisLockStrategy"]
