"""Bearer tokens at the HTTP edge: who is calling, proven by a JWT signed with the service's secret.

Every route but ``/health*`` and the OpenAPI pages (``/schema*``) asks for
``Authorization: Bearer <JWT>``: an HS256 token signed with ``AUTH_SECRET`` that carries ``sub``
(the caller's id), ``exp`` (when it stops being valid) and optionally ``roles`` (a list;
``operator`` is the back office). `BearerAuth` verifies it before the route runs and turns it
into an `Actor`; a route asks for that caller as ``actor: Caller`` and puts it on the command
or query it sends. What the actor may do is decided by the application, not here: this module
answers "who is it?", never "may they?".

The thing to notice is what a refusal looks like: 401 with ``WWW-Authenticate: Bearer``
(RFC 6750), plus ``error="invalid_token"`` when a token was sent but is expired, malformed or
signed with another secret - so a client knows whether to fetch a token or a new one.
Scenario: features/edge/authentication.feature. Guide: docs/security.md.
"""

from __future__ import annotations

from typing import Any

import jwt
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp
from pydantic import ValidationError

from cqrs_ddd_core.primitives.actor import Actor

# --8<-- [start:verify]
ALGORITHM = "HS256"
PUBLIC_PATHS = ["^/health(/|$)", "^/schema(/|$)"]
"""Open to anyone: a load balancer's probe and the API's description."""


def verify_token(token: str, secret: str) -> Actor:
    """The actor a token proves; `jwt.InvalidTokenError` if it proves nothing."""
    # ``algorithms`` pinned: a token saying alg=none, or any other algorithm, is refused.
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise jwt.InvalidTokenError("the roles claim must be a list of strings")
    try:
        return Actor(id=claims["sub"], roles=frozenset(roles))
    except ValidationError as invalid:
        raise jwt.InvalidTokenError("the sub claim must be a non-empty string") from invalid
        # --8<-- [end:verify]


def unauthorized(detail: str, *, token_sent: bool) -> NotAuthorizedException:
    """A 401 that tells the client to authenticate (and, if it tried, that its token failed)."""
    challenge = 'Bearer error="invalid_token"' if token_sent else "Bearer"
    return NotAuthorizedException(detail, headers={"WWW-Authenticate": challenge})


class BearerAuth(AbstractAuthenticationMiddleware):
    """Verifies the bearer token of every request outside `PUBLIC_PATHS`."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        super().__init__(app, exclude=PUBLIC_PATHS)
        self._secret = secret

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized(
                "Authentication required: send Authorization: Bearer <token>", token_sent=False
            )
        try:
            actor = verify_token(token.strip(), self._secret)
        except jwt.InvalidTokenError as invalid:
            raise unauthorized(f"Invalid bearer token: {invalid}", token_sent=True) from None
        return AuthenticationResult(user=actor, auth=token)


def bearer_auth(secret: str) -> DefineMiddleware:
    """`BearerAuth` with ``secret``, as a Litestar app's middleware."""
    return DefineMiddleware(BearerAuth, secret=secret)


Caller = NamedDependency[Actor]
"""A route parameter ``actor: Caller``: who sent this request, verified."""


def _actor(request: Request[Any, Any, Any]) -> Actor:
    user = request.scope.get("user")
    if not isinstance(user, Actor):  # a public route asked for a caller: a wiring mistake
        raise unauthorized("Authentication required", token_sent=False)
    return user


PROVIDE_ACTOR = Provide(_actor, sync_to_thread=False)
"""The ``actor`` dependency: the `Actor` `BearerAuth` verified for this request."""
