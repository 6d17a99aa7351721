"""Bearer tokens for tests that call the services over HTTP.

Every service endpoint but ``/health*`` and the OpenAPI pages asks for
``Authorization: Bearer <JWT>``. Tests build their apps with `TEST_AUTH_SECRET` and send
`auth_headers(...)` with each request: an operator by default, or a customer by its id.
"""

from __future__ import annotations

import time

import jwt

TEST_AUTH_SECRET = "test-secret-for-the-test-suite-only-0123456789"
"""The HS256 secret the tests' services verify tokens with (32+ bytes, as HS256 asks)."""


def token(
    sub: str = "back-office",
    *,
    operator: bool = True,
    secret: str = TEST_AUTH_SECRET,
    lifetime_seconds: int = 3600,
) -> str:
    """A signed token for ``sub``; ``operator`` adds the back office's role."""
    claims: dict[str, object] = {"sub": sub, "exp": int(time.time()) + lifetime_seconds}
    if operator:
        claims["roles"] = ["operator"]
    return jwt.encode(claims, secret, algorithm="HS256")


def auth_headers(sub: str = "back-office", *, operator: bool = True) -> dict[str, str]:
    """Headers that authenticate a request as ``sub`` (an operator unless told otherwise)."""
    return {"Authorization": f"Bearer {token(sub, operator=operator)}"}
