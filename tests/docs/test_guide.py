"""The guide never drifts from the code: every include resolves, the site builds, diagrams draw.

Code on the guide's pages is included from the source files by section marker
(``--8<-- "core/cqrs_ddd_core/cqrs/mediator.py:send"``), never pasted. These tests check that
every include names a file and a section that exist, that every test the guide names as a guard
exists, that ``mkdocs build --strict`` passes, and - in headless Chromium - that the bundled
mermaid draws the diagrams without reaching for a CDN.

The browser tests skip when Chromium is not installed, unless ``REQUIRE_CHROMIUM=1`` (CI).
Guide: docs/pitfalls.md#the-guide-drifting-from-the-code.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# The include syntax of pymdownx.snippets: --8<-- "path" or --8<-- "path:section".
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<target>[^"]+)"\s*$')
SECTION_NAME = re.compile(r"^[a-z][-_0-9a-z]*$")
GUARD = re.compile(r"`(?P<file>tests/[\w/]+\.py)::(?P<test>test_\w+)`")

BUILD_TIMEOUT = 180
BROWSER_TIMEOUT = 90


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _includes() -> list[tuple[Path, int, str]]:
    found = []
    for page in _pages():
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            match = INCLUDE.match(line)
            if match:
                found.append((page, number, match.group("target")))
    return found


def _split_target(target: str) -> tuple[str, str | None]:
    """``path:section`` -> (path, section); a plain path has no section."""
    path, _, section = target.rpartition(":")
    if path and SECTION_NAME.match(section):
        return path, section
    return target, None


def _markers(lines: list[str], kind: str, section: str) -> list[int]:
    marker = re.compile(rf"--8<--\s*\[\s*{kind}\s*:\s*{re.escape(section)}\s*\]")
    return [number for number, line in enumerate(lines, 1) if marker.search(line)]


def test_the_guide_includes_real_code() -> None:
    # A guide whose pages include nothing would pass the next test vacuously.
    assert len(_includes()) >= 30


def test_every_snippet_names_a_file_and_a_section_that_exist() -> None:
    problems = []
    for page, number, target in _includes():
        where = f"{page.relative_to(ROOT)}:{number}"
        path, section = _split_target(target)
        source = ROOT / path
        if not source.is_file():
            problems.append(f"{where}: {path} does not exist")
            continue
        if section is None:
            continue
        lines = source.read_text(encoding="utf-8").splitlines()
        starts = _markers(lines, "start", section)
        ends = _markers(lines, "end", section)
        if len(starts) != 1:
            problems.append(f"{where}: {path} has {len(starts)} '[start:{section}]' markers")
        elif len(ends) > 1 or (ends and ends[0] < starts[0]):
            # No end marker is fine: the section then runs to the end of the file.
            problems.append(f"{where}: {path} has a misplaced '[end:{section}]' marker")
    assert not problems, "\n".join(problems)


def test_every_guard_named_in_the_guide_exists() -> None:
    problems = []
    guards = 0
    for page in _pages():
        for match in GUARD.finditer(page.read_text(encoding="utf-8")):
            guards += 1
            source = ROOT / match.group("file")
            where = f"{page.relative_to(ROOT)}: {match.group(0)}"
            if not source.is_file():
                problems.append(f"{where}: no such file")
                continue
            definition = re.compile(rf"^\s*(async\s+)?def\s+{match.group('test')}\(", re.M)
            if not definition.search(source.read_text(encoding="utf-8")):
                problems.append(f"{where}: no such test in the file")
    assert guards >= 10
    assert not problems, "\n".join(problems)


# Modules end their docstring with the guide page that explains them ("Guide: docs/...md").
CODE_DIRS = ("core", "ordering_service", "billing_service", "demo", "benchmarks")
GUIDE_REFERENCE = re.compile(r"\bdocs/[a-z0-9_/-]+\.md(?:#[a-z0-9-]+)?")


def test_every_guide_page_named_in_the_code_exists() -> None:
    missing: dict[str, list[str]] = {}
    for directory in CODE_DIRS:
        for source in sorted((ROOT / directory).rglob("*.py")):
            text = source.read_text(encoding="utf-8")
            for reference in GUIDE_REFERENCE.findall(text):
                page = reference.partition("#")[0]
                if not (ROOT / page).is_file():
                    missing.setdefault(page, []).append(str(source.relative_to(ROOT)))
    assert not missing, "modules name guide pages that do not exist:\n" + "\n".join(
        f"{page} (named in {', '.join(files)})" for page, files in missing.items()
    )


# --- the built site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide built with --strict into a temporary directory (once for this module)."""
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return site_dir


@pytest.mark.slow
def test_the_guide_builds_strict(site: Path) -> None:
    for page in ("index.html", "components/mediator/index.html", "reference/cqrs/index.html"):
        assert (site / page).is_file(), f"{page} is missing from the built site"
    mediator = (site / "components/mediator/index.html").read_text(encoding="utf-8")
    assert "async def send(self, message: Any)" in _text(mediator), "the send() listing is missing"
    assert "--8&lt;--" not in mediator, "an include was not resolved"


class _MermaidBlocks(HTMLParser):
    """Collects each ``<div class="mermaid">``: its text, and the svg elements drawn inside."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[dict[str, object]] = []
        self._depth = 0  # nesting depth of divs inside the current mermaid block

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self._depth == 0:
            if tag == "div" and "mermaid" in (attributes.get("class") or "").split():
                self.blocks.append({"text": "", "svgs": []})
                self._depth = 1
            return
        if tag == "div":
            self._depth += 1
        if tag == "svg":
            svgs = self.blocks[-1]["svgs"]
            assert isinstance(svgs, list)
            svgs.append(attributes.get("aria-roledescription") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "div":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth and not self.blocks[-1]["svgs"]:
            self.blocks[-1]["text"] = str(self.blocks[-1]["text"]) + data


def _mermaid_blocks(markup: str) -> list[dict[str, object]]:
    parser = _MermaidBlocks()
    parser.feed(markup)
    return parser.blocks


def _text(markup: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", markup))


def test_the_mermaid_parser_of_these_tests_sees_blocks_and_svgs() -> None:
    blocks = _mermaid_blocks(
        '<div class="mermaid">graph TD; A--&gt;B</div>'
        '<div class="mermaid" data-processed="true"><svg aria-roledescription="flowchart-v2">'
        "<g><text>A</text></g></svg></div><div>after</div>"
    )
    assert blocks == [
        {"text": "graph TD; A-->B", "svgs": []},
        {"text": "", "svgs": ["flowchart-v2"]},
    ]


# --- headless Chromium --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable; skips (or fails, under REQUIRE_CHROMIUM=1) when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "Chromium is not installed (Debian: apt-get install -y chromium)"
    if os.environ.get("REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"{message}, and REQUIRE_CHROMIUM=1 requires it", pytrace=False)
    pytest.skip(f"{message}; set REQUIRE_CHROMIUM=1 to make this a failure")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1 (a free port), as the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _dump_dom(chromium: str, url: str, profile: Path, *extra_flags: str) -> str:
    """The page's DOM after its scripts ran, as headless Chromium serialises it."""
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        *extra_flags,
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT)
    assert result.returncode == 0, f"chromium failed on {url}:\n{result.stderr[-2000:]}"
    return result.stdout


# The reader's palette: Chromium's preferred colour scheme (1 light, 0 dark), the theme's scheme
# on <body>, and the node colour of the matching mermaid theme in the drawn svg.
PALETTES = {
    "light": ("--blink-settings=preferredColorScheme=1", "default", "#ececff"),
    "dark": ("--blink-settings=preferredColorScheme=0", "slate", "#1f2020"),
}


@pytest.mark.slow
@pytest.mark.parametrize("palette", sorted(PALETTES))
def test_the_architecture_diagrams_render_offline_in_a_browser(
    chromium: str, site: Path, served_site: str, tmp_path: Path, palette: str
) -> None:
    page = (site / "architecture/index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
    assert any(src.endswith("javascripts/mermaid.min.js") for src in scripts)
    remote = [src for src in scripts if src.startswith(("http:", "https:", "//"))]
    assert not remote, f"the page loads scripts from the network: {remote}"
    flag, scheme, node_colour = PALETTES[palette]

    dom = _dump_dom(chromium, f"{served_site}/architecture/", tmp_path / "profile", flag)

    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert f'data-md-color-scheme="{scheme}"' in body.group(0)
    blocks = _mermaid_blocks(dom)
    assert len(blocks) >= 2, "the architecture page lost its diagrams"
    for number, block in enumerate(blocks, 1):
        assert block["svgs"], f"diagram {number} was not drawn: {str(block['text'])[:200]!r}"
        assert "error" not in block["svgs"], f"diagram {number} drew mermaid's error picture"
    # Drawn in the reader's palette (in dark mode: drawn again after the theme switched).
    other_colour = next(c for _, _, c in PALETTES.values() if c != node_colour)
    assert node_colour in dom.lower()
    assert other_colour not in dom.lower()


_ALL_DIAGRAMS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<div id="results"></div>
<script src="javascripts/mermaid.min.js"></script>
<script>
  const sources = %s;
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  (async () => {
    const results = document.getElementById("results");
    for (const [index, source] of sources.entries()) {
      const item = document.createElement("div");
      item.className = "diagram";
      item.dataset.index = String(index);
      try {
        const { svg } = await mermaid.render("diagram-" + index, source);
        item.dataset.outcome = svg.includes('aria-roledescription="error"') ? "error" : "ok";
      } catch (error) {
        item.dataset.outcome = "error";
        item.textContent = String(error && error.message ? error.message : error);
      }
      results.appendChild(item);
    }
    document.body.dataset.done = "yes";
  })();
</script>
</body></html>
"""


@pytest.mark.slow
def test_every_diagram_of_the_guide_renders(
    chromium: str, site: Path, served_site: str, tmp_path: Path
) -> None:
    sources: list[tuple[str, str]] = []
    for page in sorted(site.rglob("*.html")):
        for block in _mermaid_blocks(page.read_text(encoding="utf-8")):
            sources.append((str(page.relative_to(site)), str(block["text"]).strip()))
    assert len(sources) >= 10, "the guide should explain with pictures"

    # One browser run for every diagram: each source rendered by the bundled mermaid.
    embedded = json.dumps([source for _, source in sources]).replace("</", "<\\/")
    (site / "all-diagrams-check.html").write_text(_ALL_DIAGRAMS_PAGE % embedded, encoding="utf-8")
    dom = _dump_dom(chromium, f"{served_site}/all-diagrams-check.html", tmp_path / "profile")

    assert 'data-done="yes"' in dom, "the diagrams did not finish rendering in time"
    outcomes = re.findall(
        r'<div class="diagram" data-index="(\d+)" data-outcome="(\w+)">(.*?)</div>', dom, re.S
    )
    assert len(outcomes) == len(sources)
    failed = [
        f"{sources[int(index)][0]}: {_text(message)[:300]}"
        for index, outcome, message in outcomes
        if outcome != "ok"
    ]
    assert not failed, "diagrams mermaid cannot draw:\n" + "\n".join(failed)
