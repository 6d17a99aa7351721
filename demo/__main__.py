"""`uv run just demo`: a narrated walk through the patterns, exiting 0 only if every check held."""

from __future__ import annotations

import sys

from demo import kernel_walkthrough
from demo.narration import Narrator


def main() -> int:
    narrator = Narrator()
    narrator.console.rule("[bold]CQRS/DDD reference application - the walkthrough[/]")
    kernel_walkthrough.run(narrator)
    return narrator.finish()


if __name__ == "__main__":
    sys.exit(main())
