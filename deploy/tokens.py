"""`just token SUB [ROLE...]`: a bearer token for the services, and the secret in force.

The services verify HS256 tokens signed with ``AUTH_SECRET``. On a developer's machine
(`just serve`, `just demo`, `just up-local`, compose) ``AUTH_SECRET`` is used when it is set,
and `DEVELOPMENT_SECRET` otherwise - a secret written in this repository, so anyone can sign
tokens for it: fine on your laptop, never anywhere else. Issuing tokens for real users is an
identity provider's job; this prints one so that you can try the API::

    uv run just token alice             # a customer: its own account and orders
    uv run just token ops operator      # the back office: everything

    curl -H "Authorization: Bearer $(uv run just token alice)" localhost:8001/orders

Guide: docs/security.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence

import jwt

DEVELOPMENT_SECRET = "development-secret-known-to-everyone-never-deploy-it"
"""The fallback when ``AUTH_SECRET`` is not set: public, so for local use only."""
TOKEN_LIFETIME_SECONDS = 12 * 3600


def secret_in_force(environ: Mapping[str, str] = os.environ) -> str:
    """``AUTH_SECRET`` when set, else `DEVELOPMENT_SECRET`."""
    return environ.get("AUTH_SECRET") or DEVELOPMENT_SECRET


def describe_secret(environ: Mapping[str, str] = os.environ) -> str:
    """One line for a log or a terminal: which secret the services will verify tokens with."""
    if environ.get("AUTH_SECRET"):
        return "tokens: verified with AUTH_SECRET"
    return (
        "tokens: AUTH_SECRET is not set - using the DEVELOPMENT secret (public; never deploy "
        "it); get a token with `uv run just token alice` or `uv run just token ops operator`"
    )


def issue(
    sub: str,
    roles: Sequence[str] = (),
    *,
    secret: str,
    lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
) -> str:
    """An HS256 token for ``sub`` with ``roles``, valid for ``lifetime_seconds``."""
    claims: dict[str, object] = {"sub": sub, "exp": int(time.time()) + lifetime_seconds}
    if roles:
        claims["roles"] = list(roles)
    return jwt.encode(claims, secret, algorithm="HS256")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a bearer token for the secret in force.")
    parser.add_argument("sub", help="the caller's id (a customer's id is its account id)")
    parser.add_argument("roles", nargs="*", help="its roles, e.g. operator")
    args = parser.parse_args(argv)
    if not os.environ.get("AUTH_SECRET"):
        print(describe_secret(), file=sys.stderr)  # stderr: $(just token ...) stays the token
    print(issue(args.sub, args.roles, secret=secret_in_force()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
