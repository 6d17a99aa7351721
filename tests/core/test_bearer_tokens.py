"""`verify_token`: only an HS256 token signed with the secret, naming a caller and an expiry,
proves who calls. Code: core/cqrs_ddd_core/adapters/litestar/auth.py."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import jwt
import pytest

from cqrs_ddd_core.adapters.litestar.auth import verify_token
from cqrs_ddd_core.primitives.actor import Actor
from tests.tokens import TEST_AUTH_SECRET


def signed(
    claims: dict[str, Any], *, secret: str = TEST_AUTH_SECRET, algorithm: str = "HS256"
) -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def in_an_hour() -> int:
    return int(time.time()) + 3600


def test_a_valid_token_proves_its_subject_and_roles() -> None:
    token = signed({"sub": "ops", "exp": in_an_hour(), "roles": ["operator"]})

    actor = verify_token(token, TEST_AUTH_SECRET)

    assert actor == Actor(id="ops", roles=frozenset({"operator"}))
    assert actor.is_operator


def test_a_token_without_roles_is_a_customer() -> None:
    actor = verify_token(signed({"sub": "alice", "exp": in_an_hour()}), TEST_AUTH_SECRET)

    assert actor == Actor(id="alice")
    assert not actor.is_operator


def _unsigned(claims: dict[str, Any]) -> str:
    """A token with alg=none: a header and claims, and no signature at all."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _with_another_algorithm(claims: dict[str, Any]) -> str:
    """The right secret, but HS512 (PyJWT warns that the secret is short for it: not our case)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return signed(claims, algorithm="HS512")


REFUSED = {
    "expired": signed({"sub": "alice", "exp": int(time.time()) - 60}),
    "no exp": signed({"sub": "alice"}),
    "no sub": signed({"exp": in_an_hour()}),
    "an empty sub": signed({"sub": "", "exp": in_an_hour()}),
    "a sub that is no string": signed({"sub": 42, "exp": in_an_hour()}),
    "roles that are no list": signed({"sub": "a", "exp": in_an_hour(), "roles": "operator"}),
    "another secret": signed({"sub": "alice", "exp": in_an_hour()}, secret="x" * 48),
    "another algorithm": _with_another_algorithm({"sub": "alice", "exp": in_an_hour()}),
    "alg=none": _unsigned({"sub": "alice", "exp": in_an_hour(), "roles": ["operator"]}),
    "malformed": "not.a.token",
    "garbage": "garbage",
}


@pytest.mark.parametrize("token", REFUSED.values(), ids=REFUSED.keys())
def test_a_token_that_proves_nothing_is_refused(token: str) -> None:
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(token, TEST_AUTH_SECRET)
