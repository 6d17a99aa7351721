"""The benchmark runner: discovery by convention, a failing module reported, results written.

Runs a tiny package of fake benchmark modules from a temporary directory - never the real
benchmarks (they take minutes) - both in-process and through ``python -m benchmarks``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks._runner import UnknownBenchmarkError, discover, run

ROOT = Path(__file__).resolve().parents[2]

FAKE_MODULES = {
    "__init__.py": '"""Fake benchmarks."""\n',
    "fast.py": """
        def main():
            return [{"benchmark": "fast thing", "value": 1.5, "unit": "µs/call",
                     "peer": "other", "peer_value": 3.0, "ratio": 0.5}]
    """,
    "broken.py": """
        def main():
            raise RuntimeError("the broker is down")
    """,
    "slow.py": """
        def main():
            return [{"benchmark": "slow thing", "value": 10, "unit": "ops/s"}]
    """,
    "quitter.py": """
        import sys

        def main():
            sys.exit(3)
    """,
    "shapeless.py": """
        def main():
            return {"benchmark": "not a list"}
    """,
    "_helpers.py": """
        raise AssertionError("a private module must never be imported as a benchmark")
    """,
}


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package of fake benchmark modules, importable under a name unique to this test."""
    name = f"fakebench_{uuid.uuid4().hex[:8]}"
    package = tmp_path / name
    package.mkdir()
    for filename, source in FAKE_MODULES.items():
        (package / filename).write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def quiet() -> Console:
    return Console(file=io.StringIO(), width=160)


def test_modules_are_discovered_by_convention_and_private_ones_skipped(fake_package: str) -> None:
    assert discover(fake_package) == ["broken", "fast", "quitter", "shapeless", "slow"]


def test_the_real_benchmarks_are_discovered_without_running_them() -> None:
    assert "mediator" in discover("benchmarks")
    assert not any(name.startswith("_") for name in discover("benchmarks"))


def test_a_failing_module_is_reported_and_the_others_still_run(
    fake_package: str, tmp_path: Path
) -> None:
    results = tmp_path / "results.json"
    console = quiet()

    exit_code = run(package=fake_package, results_path=results, console=console)

    assert exit_code == 1
    written = json.loads(results.read_text())
    assert [(row["module"], row["benchmark"]) for row in written["rows"]] == [
        ("fast", "fast thing"),
        ("slow", "slow thing"),
    ]
    assert written["rows"][0]["ratio"] == 0.5
    modules = written["modules"]
    assert {name: m["status"] for name, m in modules.items()} == {
        "broken": "failed",
        "fast": "ok",
        "quitter": "failed",
        "shapeless": "failed",
        "slow": "ok",
    }
    assert "RuntimeError: the broker is down" in modules["broken"]["error"]
    assert "must return a list of dicts" in modules["shapeless"]["error"]
    assert "SystemExit: 3" in modules["quitter"]["error"]
    assert written["python"] == written["machine"]["python"]
    assert written["machine"]["cpu_count"] >= 1
    assert written["date"].endswith("+00:00")
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "fast thing" in printed
    assert "failed: broken, quitter, shapeless" in printed


def test_named_modules_run_alone(fake_package: str, tmp_path: Path) -> None:
    results = tmp_path / "results.json"

    assert run(["slow"], package=fake_package, results_path=results, console=quiet()) == 0

    written = json.loads(results.read_text())
    assert list(written["modules"]) == ["slow"]
    assert [row["benchmark"] for row in written["rows"]] == ["slow thing"]


def test_an_unknown_name_is_refused_with_the_available_ones(
    fake_package: str, tmp_path: Path
) -> None:
    with pytest.raises(UnknownBenchmarkError, match=r"no_such.*available: broken, fast"):
        run(["no_such"], package=fake_package, results_path=tmp_path / "r.json", console=quiet())
    assert not (tmp_path / "r.json").exists()


def run_cli(tmp_path: Path, package: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "--package", package, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_command_line_exits_non_zero_only_when_a_module_failed(
    fake_package: str, tmp_path: Path
) -> None:
    results = tmp_path / "cli.json"

    passing = run_cli(tmp_path, fake_package, "--output", str(results), "fast", "slow")
    failing = run_cli(tmp_path, fake_package, "--output", str(results), "broken", "fast")
    unknown = run_cli(tmp_path, fake_package, "--output", str(results), "no_such")

    assert passing.returncode == 0, passing.stderr
    assert failing.returncode == 1, failing.stderr
    assert "the broker is down" in failing.stdout
    assert unknown.returncode == 2
    assert "available: broken, fast, quitter, shapeless, slow" in unknown.stderr
    written = json.loads(results.read_text())
    assert [row["module"] for row in written["rows"]] == ["fast"], "the last run's rows"
