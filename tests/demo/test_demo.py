"""`just demo` tells its story and exits 0 only when every check held."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_every_section_and_every_check_holds() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin", "TERM": "dumb"},
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    for title in (
        "The mediator and the unit of work",
        "A nested command commits once with its parent",
        "Correlation and causation",
    ):
        assert title in finished.stdout
    assert "checks held" in finished.stdout
    assert "✘" not in finished.stdout
