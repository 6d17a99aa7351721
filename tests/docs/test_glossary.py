"""The glossary defines the guide's terms, and every page carries their tooltips.

docs/glossary.md is a definition list; docs/includes/abbreviations.md holds the short forms
(mkdocs ``abbr``) that pymdownx.snippets appends to every page, so hovering a term anywhere shows
it. Guide: docs/glossary.md.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
ABBREVIATIONS = (ROOT / "docs" / "includes" / "abbreviations.md").read_text(encoding="utf-8")
# A definition-list term is a line followed by a ":   " definition.
DEFINED = {match.group(1).lower() for match in re.finditer(r"^(\S[^\n]*)\n:   ", GLOSSARY, re.M)}
TOOLTIPS = re.findall(r"^\*\[([^\]]+)\]: \S", ABBREVIATIONS, re.M)

# The terms a newcomer meets first, and asked about.
REQUIRED = [
    "cqrs", "ddd", "aggregate", "bounded context", "unit of work", "transactional outbox",
    "inbox", "lease", "claim token", "redrive", "wal", "begin immediate", "skip locked",
    "prefetch", "x-death", "debounce", "dead letter", "idempotency key", "process manager",
    "deadline", "ttl", "savepoint", "correlation id", "retention",
]  # fmt: skip


def test_the_glossary_defines_every_term_a_newcomer_asks_about() -> None:
    missing = [term for term in REQUIRED if term not in DEFINED]
    assert not missing, f"docs/glossary.md lacks: {missing}"


def test_every_tooltip_is_unique_and_every_page_gets_them() -> None:
    assert len(TOOLTIPS) >= 40
    assert len(TOOLTIPS) == len(set(TOOLTIPS)), "a term has two tooltips"
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "auto_append: [docs/includes/abbreviations.md]" in config
    assert re.search(r"^\s+- abbr$", config, re.M)
