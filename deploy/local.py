"""`just up-local` / `just down-local`: both services as separate local processes.

For machines without Docker: the services run against the RabbitMQ and PostgreSQL already
running on this machine, each with a database of its own (created if missing), exactly as
docker-compose.yml wires them. ``--billing-replicas 2`` starts two billing processes that
compete for one queue. Billing keeps its locks in its database, or in Redis when ``LOCK_URL``
is set (``LOCK_URL=redis://127.0.0.1:6379/0 just up-local``), as compose does. Both verify
bearer tokens with ``AUTH_SECRET``, or the development secret when it is not set (said at
start; `uv run just token alice` prints a token for it). PIDs and logs go to var/local/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deploy.cluster import Cluster
from deploy.tokens import describe_secret, secret_in_force

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / "var" / "local"
POSTGRES_ADMIN_URL = os.environ.get(
    "POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def _create_databases(names: list[str]) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        for name in names:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def billing_env(environ: Mapping[str, str]) -> dict[str, str]:
    """What billing gets besides the cluster's URLs: ``LOCK_URL`` when it is set."""
    return {"LOCK_URL": environ["LOCK_URL"]} if environ.get("LOCK_URL") else {}


def up(billing_replicas: int) -> int:
    STATE.mkdir(parents=True, exist_ok=True)
    asyncio.run(_create_databases(["ordering", "billing"]))
    cluster = Cluster(
        STATE,
        AMQP_URL,
        {name: f"{POSTGRES_URL}/{name}" for name in ("ordering", "billing")},
        secret_in_force(),
    )
    cluster.add("ordering", port=8001)
    billing = billing_env(os.environ)
    for replica in range(billing_replicas):
        cluster.add("billing", port=8002 + replica, env=billing)
    print(f"billing's locks: {'Redis (LOCK_URL)' if billing else 'its database'}")
    print(describe_secret())
    try:
        cluster.start()
    except (RuntimeError, TimeoutError) as error:
        print(f"a service did not become healthy: {error}; stopping the others")
        cluster.stop()  # no pid files were written: `down` could not find them later
        return 1
    for process in cluster.processes:
        (STATE / f"{process.name}.pid").write_text(str(process.pid))
        log = f"var/local/{process.log.name}"
        print(f"{process.name} (pid {process.pid}) on {process.url}  log: {log}")
    return 0


def down() -> int:
    for pid_file in sorted(STATE.glob("*.pid")):
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, signal.SIGTERM)  # graceful: stop consuming, finish in flight, stop relay
            print(f"stopping {pid_file.stem} (pid {pid})")
        except ProcessLookupError:
            pass
        pid_file.unlink()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--billing-replicas", type=int, default=1)
    args = parser.parse_args()
    return up(args.billing_replicas) if args.action == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
