"""The core is a package of its own: its wheel installs and works without the application.

`uv build` in core/ makes the wheel of ``cqrs-ddd-core``; each test installs it into a fresh
virtual environment, as a reader copying the patterns into a service would:

* plain, it needs only pydantic: the kernel and its in-memory adapters import and run, while
  SQLAlchemy, Litestar and aio-pika are not even installed;
* with the ``sqlalchemy`` extra, examples/outbox_inbox - copied alone, the services nowhere
  on the path - runs the outbox and the idempotent consumer on SQLite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path | None = None) -> str:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)  # never the project's environment: the one named, or none
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    assert uv is not None, "uv is on the PATH wherever the tests run"
    out = tmp_path_factory.mktemp("dist")
    run(uv, "build", "--wheel", "--out-dir", out, cwd=ROOT / "core")
    (built,) = out.glob("cqrs_ddd_core-*.whl")
    return built


def fresh_environment(directory: Path, wheel: Path, extras: str = "") -> Path:
    """A new virtual environment with the wheel (and ``extras``) installed; its python."""
    uv = shutil.which("uv") or "uv"
    run(uv, "venv", "--quiet", "--python", sys.executable, directory / "venv")
    python = directory / "venv" / "bin" / "python"
    requirement = f"cqrs-ddd-core{extras} @ {wheel.as_uri()}"
    run(uv, "pip", "install", "--quiet", "--python", python, requirement)
    return python


PLAIN_CHECK = """
import asyncio, importlib, importlib.util, pathlib, cqrs_ddd_core
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse

missing = [m for m in ("sqlalchemy", "litestar", "aio_pika", "redis", "alembic", "uvicorn")
           if importlib.util.find_spec(m) is not None]
assert not missing, f"installed without being asked for: {missing}"

# Every module outside the technology adapters imports with pydantic alone.
root = pathlib.Path(cqrs_ddd_core.__file__).parent
for path in sorted(root.rglob("*.py")):
    name = ".".join(("cqrs_ddd_core", *path.relative_to(root).with_suffix("").parts))
    name = name.removesuffix(".__init__")
    if ".adapters." in name and ".adapters.memory" not in name:
        continue
    importlib.import_module(name)

class Greet(Command[str]):
    name: str

class GreetHandler:
    async def handle(self, command: Greet) -> CommandResponse[str]:
        return CommandResponse(result=f"hello {command.name}")

registry = HandlerRegistry()
registry.register_command_handler(Greet, GreetHandler())
response = asyncio.run(Mediator(registry, InMemoryUnitOfWork).send(Greet(name="core")))
print(response.result)
"""


def test_the_plain_wheel_needs_only_pydantic(wheel: Path, tmp_path: Path) -> None:
    python = fresh_environment(tmp_path, wheel)

    assert run(python, "-c", PLAIN_CHECK).strip() == "hello core"
    assert "py.typed" in run(
        python, "-c", "import cqrs_ddd_core, os; print(os.listdir(cqrs_ddd_core.__path__[0]))"
    )


def test_the_sqlalchemy_extra_runs_the_outbox_and_inbox_example_alone(
    wheel: Path, tmp_path: Path
) -> None:
    python = fresh_environment(tmp_path, wheel, "[sqlalchemy]")
    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "outbox_inbox", app / "examples" / "outbox_inbox")
    shutil.copy(ROOT / "examples" / "__init__.py", app / "examples" / "__init__.py")

    output = run(python, "-m", "examples.outbox_inbox", cwd=app)

    assert "ada has 40 points" in output
    assert "1 recognised as a duplicate" in output
    absent = "import importlib.util as u; print([m for m in {names} if u.find_spec(m)])"
    names = ("litestar", "aio_pika", "ordering_service", "billing_service")
    assert run(python, "-c", absent.format(names=names), cwd=app).strip() == "[]"
