"""`readiness`: may this replica take traffic? Each check answers, and says why not.

A readiness probe (``GET /health/ready``) runs every check at once and reports each by name;
`ServiceHost` gives it three:

* ``database`` - every database of the service takes a write within a short timeout
  (``READY_WRITE_TIMEOUT_SECONDS``, see write_probe.py): a replica that can read but not write
  would accept commands only to time them out;
* ``broker`` - the service's own link to the broker is up (not reconnecting);
* ``relay`` - the outbox relay runs and finished a batch within ``RELAY_STUCK_SECONDS``: events
  that are committed but never leave are an outage nobody sees from the HTTP side.

Liveness (``GET /health/live``) asks none of them: a replica that is only cut off from its
database must not be restarted for it - an orchestrator would restart every replica at once.
A check returns ``None`` when it passes, otherwise a short reason; the reasons are public (the
probe needs no token), so they name the failure, never an address or a password.
Guide: docs/deployment.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[str | None]]
"""A readiness check: ``None`` when it passes, otherwise why it failed."""


async def readiness(checks: Mapping[str, Check]) -> dict[str, Any]:
    """``{"status": "ok" | "unavailable", <check>: bool, ..., "failed": {<check>: reason}}``.

    The checks run concurrently, so the probe takes as long as the slowest, not their sum.
    """
    outcomes = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    failed = {name: reason for name, reason in zip(checks, outcomes, strict=True) if reason}
    return {
        "status": "unavailable" if failed else "ok",
        **{name: name not in failed for name in checks},
        "failed": failed,
    }


async def _run(name: str, check: Check) -> str | None:
    try:
        return await check()
    except Exception as error:  # a check that breaks is a check that failed
        logger.warning("readiness check %s raised", name, exc_info=True)
        return f"check failed ({type(error).__name__})"
