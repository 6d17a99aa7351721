"""The rules of the two services' shape, checked on their source (imports, not behaviour).

* ``application/`` does not reach into infrastructure, the API or the wiring.
* The two services never import each other: they share payloads, not classes.
* ``bootstrap.py`` is the only module that imports the concrete adapters.

That ``domain/`` imports no framework and no adapter, and that no module imports itself through
others, is checked on the whole import graph in ``test_import_graph.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ordering_service", "billing_service")
FRAMEWORKS = ("sqlalchemy", "litestar", "aio_pika", "alembic", "uvicorn", "asyncpg", "aiosqlite")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(service: str, part: str = "") -> list[Path]:
    return sorted((ROOT / service / part).rglob("*.py"))


@pytest.mark.parametrize("service", SERVICES)
def test_the_application_does_not_depend_on_infrastructure_api_or_wiring(service: str) -> None:
    outer = (f"{service}.infrastructure", f"{service}.api", f"{service}.bootstrap")
    for path in modules(service, "application"):
        imported = imports_of(path)
        offending = {m for m in imported if m.startswith(outer) or m.split(".")[0] in FRAMEWORKS}
        assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize(("service", "other"), [SERVICES, SERVICES[::-1]])
def test_the_services_never_import_each_other(service: str, other: str) -> None:
    for path in modules(service):
        offending = {m for m in imports_of(path) if m.split(".")[0] == other}
        assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("service", SERVICES)
def test_only_bootstrap_imports_the_concrete_adapters(service: str) -> None:
    adapters = ("cqrs_ddd_core.adapters.rabbitmq", "cqrs_ddd_core.adapters.sqlalchemy.outbox")
    for path in modules(service):
        if path.name in ("bootstrap.py",) or "infrastructure" in path.parts:
            continue
        offending = {m for m in imports_of(path) if m.startswith(adapters)}
        assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"
