"""The Learn path stays runnable: its commands name real tests, its "break it" lines exist.

docs/learn.md orders the lessons; each runs scenarios with ``uv run just test <paths>`` and
asks the reader to change one line of the real code and watch a scenario fail. Each such
change was tried by hand when the lesson was written; this test keeps the page from drifting
from the code: every path it runs exists, and every line it asks to change is still in the
file it names. Guide: docs/learn.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LEARN = (ROOT / "docs" / "learn.md").read_text(encoding="utf-8")
RUN = re.compile(r"^uv run just test (?P<paths>.+)$", re.M)
BREAK = re.compile(
    r'Break it in `(?P<file>[^`]+)`"|And in `(?P<also>[^`]+)`"'
    r'|```python title="change this line"\n\s*(?P<old>[^\n]+)\n'
)


def test_every_command_of_the_learn_path_runs_tests_that_exist() -> None:
    paths = [path for match in RUN.finditer(LEARN) for path in match.group("paths").split()]
    assert len(paths) >= 9
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert not missing, f"docs/learn.md runs tests that do not exist: {missing}"


def test_every_line_the_learn_path_asks_to_change_is_in_its_file() -> None:
    changes: list[tuple[str, str]] = []
    current = ""
    for match in BREAK.finditer(LEARN):
        if match.group("file") or match.group("also"):
            current = match.group("file") or match.group("also")
        else:
            changes.append((current, match.group("old").strip()))
    assert len(changes) >= 9
    problems = [
        f"{file}: {line!r}"
        for file, line in changes
        if line not in (ROOT / file).read_text(encoding="utf-8")
    ]
    assert not problems, "lines docs/learn.md asks to change are gone:\n" + "\n".join(problems)


def test_the_learn_path_comes_first_in_the_guide() -> None:
    class _Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml holds python tags (!!python/name:, !relative) that a safe loader refuses.
    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    _Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    assert config["nav"][0] == {"Learn": "learn.md"}
