"""The import graph of the core and the two services: no cycles, and layers that import down.

The graph is read from the source with `ast`, not by importing anything: every ``import`` and
``from ... import`` at any depth - module level, inside a function, under ``if TYPE_CHECKING:``
- is an edge from its module to the module it names (``from a import b`` names ``a.b`` when
that is a module, else ``a``). The packages on the way (``__init__.py``) are not edges.

``TYPE_CHECKING``-only imports count. A cycle through annotations is still two modules that
cannot be read, tested or moved apart; the guard only hides it from the interpreter until
something resolves those annotations at runtime (pydantic, ``get_type_hints``). Ordering's
ports and read model were such a pair. Function-level imports count for the same reason: a
deferred import is how a cycle hides, not how it goes away.

The rules, each a test below:

* no module reaches itself through its imports (the failure prints the cycle, import by
  import, with file and line);
* ``domain/`` - the core's and each service's - imports no framework (pydantic is allowed: the
  domain events are pydantic models) and no adapter;
* the core's ``cqrs/`` imports no adapter, no framework and nothing of ``middleware/``: the
  middleware plug into the mediator's pipeline, so they depend on ``cqrs/``, never the reverse;
* ``ports/`` imports no adapter and no framework, and of ``cqrs/`` only the message types the
  bus ports speak (`Command`, `Query`, their responses) - modules that import no port back.

The services' own shape (the application never reaches into infrastructure, the two services
never import each other, only ``bootstrap.py`` imports concrete adapters) is checked in
``test_boundaries.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"cqrs_ddd_core": ROOT / "core", "ordering_service": ROOT, "billing_service": ROOT}
SERVICES = ("ordering_service", "billing_service")
FRAMEWORKS = (
    "sqlalchemy",
    "litestar",
    "aio_pika",
    "aiormq",
    "uvicorn",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "redis",
)
ADAPTERS = ("cqrs_ddd_core.adapters", *(f"{service}.infrastructure" for service in SERVICES))


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``module`` imports ``target`` at ``path:line``."""

    module: str
    target: str
    """A module of the graph, or the top-level name of an outside package."""
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


@cache
def source_modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    found: dict[str, Path] = {}
    for package, base in PACKAGES.items():
        for path in sorted((base / package).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


@cache
def import_graph() -> dict[str, tuple[Import, ...]]:
    """Each module's imports (module level first, then nested ones)."""
    modules = source_modules()
    return {
        name: tuple(imports_in_source(name, path, path.read_text(), modules))
        for name, path in modules.items()
    }


def imports_in_source(
    module: str, path: Path, source: str, modules: dict[str, Path]
) -> Iterator[Import]:
    """The imports of ``source``, the text of ``module`` at ``path``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, _known(alias.name, modules), path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, ``level - 1`` packages up
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in modules else _known(base, modules)
                yield Import(module, target, path, node.lineno)


def _known(name: str, modules: dict[str, Path]) -> str:
    """The longest module of the graph that ``name`` lies in, or the outside package's name."""
    candidate = name
    while candidate:
        if candidate in modules:
            return candidate
        candidate = candidate.rpartition(".")[0]
    return name.split(".")[0]


def find_cycles(graph: dict[str, tuple[Import, ...]]) -> list[list[Import]]:
    """One cycle for each group of modules that import one another (Tarjan's components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for edge in graph[module]:
            if edge.target not in graph or edge.target == module:
                continue
            if edge.target not in index:
                visit(edge.target)
                low[module] = min(low[module], low[edge.target])
            elif edge.target in on_stack:
                low[module] = min(low[module], index[edge.target])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(component)

    for module in graph:
        if module not in index:
            visit(module)
    return [_a_cycle_through(min(component), component, graph) for component in components]


def _a_cycle_through(
    start: str, component: set[str], graph: dict[str, tuple[Import, ...]]
) -> list[Import]:
    """The shortest chain of imports from ``start`` back to itself, inside ``component``."""
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for module in frontier:
            for edge in graph[module]:
                if edge.target == start:
                    return [*paths[module], edge]
                if edge.target in component and edge.target not in paths:
                    paths[edge.target] = [*paths[module], edge]
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"{start} is in a cycle but none leads back to it")  # unreachable


def offending_imports(
    layer: str, forbidden: tuple[str, ...], *, allowed: tuple[str, ...] = ()
) -> list[str]:
    """The imports of modules under ``layer`` that name something under ``forbidden``."""
    found = []
    for module, edges in import_graph().items():
        if not _under(module, (layer,)):
            continue
        for edge in edges:
            if _under(edge.target, forbidden) and not _under(edge.target, allowed):
                found.append(str(edge))
    return found


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


# --- the rules ------------------------------------------------------------------------------


def test_no_module_imports_itself_through_others() -> None:
    cycles = find_cycles(import_graph())
    report = "\n\n".join(
        "import cycle:\n" + "\n".join(f"  {edge}" for edge in cycle) for cycle in cycles
    )
    if cycles:
        pytest.fail(report)


@pytest.mark.parametrize("domain", ["cqrs_ddd_core.domain", *(f"{s}.domain" for s in SERVICES)])
def test_the_domain_imports_no_framework_and_no_adapter(domain: str) -> None:
    offending = offending_imports(domain, FRAMEWORKS + ADAPTERS)
    assert not offending, "\n".join(offending)


def test_the_cqrs_layer_imports_no_adapter_no_framework_and_no_middleware() -> None:
    forbidden = (*FRAMEWORKS, *ADAPTERS, "cqrs_ddd_core.middleware")
    offending = offending_imports("cqrs_ddd_core.cqrs", forbidden)
    assert not offending, "\n".join(offending)


def test_the_ports_import_no_adapter_and_of_the_cqrs_layer_only_its_messages() -> None:
    messages = tuple(f"cqrs_ddd_core.cqrs.{name}" for name in ("command", "query", "response"))
    forbidden = (*FRAMEWORKS, *ADAPTERS, "cqrs_ddd_core.cqrs", "cqrs_ddd_core.middleware")
    offending = offending_imports("cqrs_ddd_core.ports", forbidden, allowed=messages)
    assert not offending, "\n".join(offending)


def test_the_graph_sees_deferred_and_type_checking_imports() -> None:
    """The rules above are only as good as the graph: it must see the imports that hide."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from cqrs_ddd_core.cqrs.mediator import Mediator\n"
        "def later() -> None:\n"
        "    from . import scope\n"
        "    import sqlalchemy.orm\n"
    )
    path = PACKAGES["cqrs_ddd_core"] / "cqrs_ddd_core" / "cqrs" / "example.py"
    edges = imports_in_source("cqrs_ddd_core.cqrs.example", path, source, source_modules())

    assert [edge.target for edge in edges] == [
        "typing",
        "cqrs_ddd_core.cqrs.mediator",
        "cqrs_ddd_core.cqrs.scope",
        "sqlalchemy",
    ]


def test_a_cycle_is_reported_import_by_import() -> None:
    def edge(module: str, target: str, line: int) -> Import:
        return Import(module, target, ROOT / f"{module}.py", line)

    graph = {
        "a": (edge("a", "b", 3), edge("a", "typing", 1)),
        "b": (edge("b", "c", 5),),
        "c": (edge("c", "a", 7), edge("c", "d", 8)),
        "d": (),
    }

    (cycle,) = find_cycles(graph)

    assert [str(e) for e in cycle] == ["a.py:3 imports b", "b.py:5 imports c", "c.py:7 imports a"]
