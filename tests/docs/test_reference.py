"""The reference pages promise import paths that work: every import line on them is imported.

docs/reference/*.md (the CQRS layer, component by component) open with the names a caller
imports. This test runs each ``from cqrs_ddd_core... import ...`` statement of their code blocks
(a parenthesised, multi-line import included), so a page cannot keep a path that was moved.
Each reference page also ends with an errata box and names the tests its examples run in.
Guide: docs/reference/index.md.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
PYTHON_BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```", re.S | re.M)
# The hand-written component pages; the others are generated from docstrings (a ::: line).
PAGES = sorted(
    page
    for page in REFERENCE.glob("*.md")
    if page.name != "index.md" and ":::" not in page.read_text(encoding="utf-8")
)


def _imports(page: Path) -> list[str]:
    statements = []
    for block in PYTHON_BLOCK.finditer(page.read_text(encoding="utf-8")):
        for node in ast.parse(block.group("code")).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cqrs_ddd_core"):
                statements.append(ast.unparse(node))
    return statements


def test_there_is_a_reference_page_per_component() -> None:
    assert len(PAGES) >= 10, [page.name for page in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_every_import_on_a_reference_page_works(page: Path) -> None:
    statements = _imports(page)
    assert statements, f"{page.name} names no import path"
    for statement in statements:
        exec(statement, {})  # our own pages, run on purpose


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_every_reference_page_has_its_contract_and_its_errata(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "## Contract" in text
    assert '!!! bug "Errata' in text
    assert "tests/spec_examples/" in text or "tests/" in text


# --- the component pages: usage first, their scenario last --------------------------------------

COMPONENTS = sorted(
    page for page in (ROOT / "docs" / "components").glob("*.md") if page.name != "index.md"
)
GHERKIN_INCLUDE = re.compile(r'^--8<-- "features/[\w/]+\.feature"$', re.M)


def _level_two_headings(text: str) -> list[str]:
    headings, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            headings.append(line[3:].strip())
    return headings


@pytest.mark.parametrize("page", COMPONENTS, ids=lambda page: page.stem)
def test_a_component_page_opens_with_its_use_and_ends_with_its_scenario(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    headings = _level_two_headings(text)
    assert headings[:3] == ["Use it", "The contract", "How it works inside"], headings
    assert headings[-1] == "The scenarios", headings
    last_section = text.rpartition("\n## The scenarios")[2]
    assert GHERKIN_INCLUDE.search(last_section), f"{page.name} does not end with a .feature"
