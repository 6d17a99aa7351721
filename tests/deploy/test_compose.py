"""docker-compose.yml (and `just up-local`, `just token`): valid against the compose
specification, and wired consistently.

No Docker engine runs on our machines, so the file is checked offline: the schema by
check-jsonschema's bundled compose schema, the cross-references (which the schema cannot
see) here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from billing_service.bootstrap import BillingSettings
from cqrs_ddd_core.adapters.host.settings import MIN_SECRET_BYTES
from cqrs_ddd_core.adapters.litestar.auth import verify_token
from deploy.local import billing_env
from deploy.tokens import DEVELOPMENT_SECRET, describe_secret, secret_in_force

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(ROOT / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_depends_on_names_a_defined_service() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on undefined service {dependency}"


def test_each_service_has_its_own_database_and_the_broker() -> None:
    services = _compose()["services"]
    urls = {name: services[name]["environment"]["DATABASE_URL"] for name in ("ordering", "billing")}
    assert urls["ordering"] != urls["billing"]
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    for url in urls.values():
        assert f"CREATE DATABASE {url.rsplit('/', 1)[1]};" in init
    for name in ("ordering", "billing"):
        assert services[name]["environment"]["AMQP_URL"].startswith("amqp://")


def test_billing_can_be_scaled_without_a_host_port_clash() -> None:
    ports = _compose()["services"]["billing"]["ports"]
    # HOST_IP::CONTAINER_PORT: no host port given, so each replica gets a free one.
    assert all(str(port).split(":")[1] == "" for port in ports)


def test_every_port_is_published_on_this_machines_loopback_only() -> None:
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} to the network"


def test_the_services_listen_on_the_containers_interfaces() -> None:
    services = _compose()["services"]
    for name in ("ordering", "billing"):
        assert services[name]["environment"]["HOST"] == "0.0.0.0"


def test_compose_waits_for_readiness_not_mere_liveness() -> None:
    services = _compose()["services"]
    for name in ("ordering", "billing"):
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert "/health/ready'" in probe


def compose_service_users() -> dict[str, tuple[str, str]]:
    """Each service's RabbitMQ user and password, from its ``AMQP_URL`` in compose."""
    services = _compose()["services"]
    users: dict[str, tuple[str, str]] = {}
    for name in ("ordering", "billing"):
        url = urlsplit(services[name]["environment"]["AMQP_URL"])
        users[name] = (url.username or "", url.password or "")
    return users


def test_the_broker_loads_the_definitions_it_is_given() -> None:
    rabbitmq = _compose()["services"]["rabbitmq"]
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in rabbitmq["volumes"])
    config = mounts["./deploy/rabbitmq/rabbitmq.conf"]
    assert config.startswith("/etc/rabbitmq/conf.d/")
    loaded = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text()
    target = mounts["./deploy/rabbitmq/definitions.json"]
    assert f"load_definitions = {target}" in loaded


def test_the_services_run_modules_that_exist() -> None:
    services = _compose()["services"]
    for name in ("ordering", "billing"):
        command = services[name]["command"]
        assert command[:2] == ["python", "-m"]
        module = command[2]
        assert (ROOT / module / "__main__.py").exists(), f"{module} has no __main__.py"


def test_billing_takes_its_locks_from_the_redis_service_it_waits_for() -> None:
    services = _compose()["services"]
    billing = services["billing"]
    lock_url = billing["environment"]["LOCK_URL"]
    assert BillingSettings(lock_url=lock_url).lock_url == lock_url  # accepted at start
    assert urlsplit(lock_url).hostname == "redis"
    assert "redis" in services
    assert billing["depends_on"]["redis"]["condition"] == "service_healthy"


def test_up_local_passes_lock_url_to_billing_when_it_is_set() -> None:
    assert billing_env({"LOCK_URL": "redis://127.0.0.1:6379/0"}) == {
        "LOCK_URL": "redis://127.0.0.1:6379/0"
    }
    assert billing_env({}) == {}


def test_both_services_verify_tokens_with_auth_secret_or_the_development_secret() -> None:
    services = _compose()["services"]
    fallback = f"${{AUTH_SECRET:-{DEVELOPMENT_SECRET}}}"
    for name in ("ordering", "billing"):
        assert services[name]["environment"]["AUTH_SECRET"] == fallback  # as `just token` signs


def test_the_secret_in_force_is_auth_secret_when_set_and_said_to_be_public_otherwise() -> None:
    assert secret_in_force({"AUTH_SECRET": "s" * 32}) == "s" * 32
    assert secret_in_force({}) == DEVELOPMENT_SECRET
    assert "DEVELOPMENT secret" in describe_secret({})
    assert "AUTH_SECRET" in describe_secret({"AUTH_SECRET": "s" * 32})
    assert len(DEVELOPMENT_SECRET.encode()) >= MIN_SECRET_BYTES  # the services accept it


def test_just_token_prints_a_token_the_services_accept() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "deploy.tokens", "ops", "operator"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert printed.returncode == 0, printed.stderr
    assert "DEVELOPMENT secret" in printed.stderr  # said where a person reads it, not in $(...)
    actor = verify_token(printed.stdout.strip(), DEVELOPMENT_SECRET)
    assert (actor.id, actor.is_operator) == ("ops", True)
