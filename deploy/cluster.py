"""`Cluster`: the two services as separate OS processes, the way they are deployed.

Used by `just up-local`, the reliability suite and the end-to-end benchmarks: each service
runs as ``python -m ordering_service`` / ``python -m billing_service`` with its own
``PORT``, ``DATABASE_URL``, ``AMQP_URL`` and ``AUTH_SECRET`` (the key its callers' bearer
tokens are signed with, one for the whole cluster); replicas of one service share its database and
compete for its queue. Processes can be stopped gracefully (SIGTERM) or killed (SIGKILL), so
tests can crash them mid-flight. ``entry`` runs a replica from another module than the
service's own (the reliability suite's services with a fault built in); ``extra_env`` adds
variables to every process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"ordering": "ordering_service", "billing": "billing_service"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    """One running replica of a service."""

    name: str
    service: str
    port: int
    env: dict[str, str]
    log: Path
    entry: Sequence[str] = ()
    """What ``python`` runs, e.g. ``["-m", "ordering_service"]`` (the default: the service)."""
    process: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        env = {
            **os.environ,
            **self.env,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, *(self.entry or ["-m", MODULES[self.service]])],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is ours to forward, not theirs
            )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise RuntimeError(f"{self.name} exited early; its log:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health/ready", timeout=3) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not healthy within {timeout}s; log:\n{self.log_text()}")

    def terminate(self, timeout: float = 30.0) -> int | None:
        """Graceful stop (SIGTERM): stop consuming, finish in-flight work, stop the relay."""
        if not self.is_running():
            return self.process.returncode if self.process else None
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise TimeoutError(f"{self.name} ignored SIGTERM for {timeout}s") from None

    def kill(self) -> None:
        """Crash it (SIGKILL): no shutdown hook runs, nothing in flight is finished."""
        if self.is_running():
            assert self.process is not None
            self.process.kill()
            self.process.wait(10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """Replicas of ordering and billing sharing a broker and one database per service."""

    workdir: Path
    amqp_url: str
    database_urls: dict[str, str]
    auth_secret: str
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)

    @classmethod
    def on_sqlite(cls, workdir: Path, amqp_url: str, auth_secret: str, **kwargs: Any) -> Cluster:
        urls = {name: f"sqlite+aiosqlite:///{workdir / f'{name}.db'}" for name in MODULES}
        return cls(workdir, amqp_url, urls, auth_secret, **kwargs)

    def add(
        self,
        service: str,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        entry: Sequence[str] = (),
    ) -> ServiceProcess:
        replica = sum(1 for p in self.processes if p.service == service) + 1
        name = f"{service}-{replica}"
        process = ServiceProcess(
            name=name,
            service=service,
            port=port or free_port(),
            env={
                "DATABASE_URL": self.database_urls[service],
                "AMQP_URL": self.amqp_url,
                "AUTH_SECRET": self.auth_secret,
                **self.extra_env,
                **(env or {}),
            },
            log=self.workdir / f"{name}.log",
            entry=entry,
        )
        self.processes.append(process)
        return process

    def start(self, *, timeout: float = 60.0) -> None:
        """Start every process not running yet (billing first: it consumes OrderCreated)."""
        pending = [p for p in self.processes if not p.is_running()]
        for process in sorted(pending, key=lambda p: p.service != "billing"):
            process.start()
        for process in pending:
            process.wait_healthy(timeout)

    def replicas(self, service: str) -> list[ServiceProcess]:
        return [p for p in self.processes if p.service == service]

    def url(self, service: str) -> str:
        return next(p.url for p in self.processes if p.service == service and p.is_running())

    def stop(self, timeout: float = 30.0) -> None:
        errors: list[BaseException] = []
        for process in self.processes:
            try:
                process.terminate(timeout)
            except TimeoutError as error:
                errors.append(error)
        if errors:
            raise errors[0]

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
