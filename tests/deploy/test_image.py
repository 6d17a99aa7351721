"""The Dockerfile's deployment defaults, read from the file (no Docker engine runs here).

* The services run as a user of their own, never as root, and may write only to var/ (the
  SQLite files when ``DATABASE_URL`` keeps its default).
* Inside the container they listen on every interface (``HOST=0.0.0.0``): the container's
  loopback is its own, and the port compose publishes on 127.0.0.1 decides who reaches them.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    users = [arguments for keyword, arguments in instructions() if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    creates_it = [a for k, a in instructions() if k == "RUN" and "useradd" in a and user in a]
    assert creates_it, f"user {user!r} is never created"


def test_only_var_is_writable_by_that_user() -> None:
    user = [arguments for keyword, arguments in instructions() if keyword == "USER"][-1]
    chowns = [a for k, a in instructions() if k == "RUN" and "chown" in a]
    assert chowns == [f"mkdir -p /app/var && chown {user} /app/var"]


def test_in_the_container_the_services_listen_on_every_interface() -> None:
    env: dict[str, str] = {}
    for keyword, arguments in instructions():
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    assert env["HOST"] == "0.0.0.0"
