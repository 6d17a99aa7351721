"""`MiddlewareRegistry`, importable from where the middleware live.

The registry is part of the mediator's pipeline and lives beside it, in `cqrs/pipeline.py`:
the mediator needs it, while the middleware here (logging, locking, outbox) need the mediator's
building blocks - defining it here would make `cqrs/` and `middleware/` import each other.
"""

from __future__ import annotations

from cqrs_ddd_core.cqrs.pipeline import Middleware, MiddlewareRegistry, Next

__all__ = ["Middleware", "MiddlewareRegistry", "Next"]
