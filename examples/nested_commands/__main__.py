"""``uv run python -m examples.nested_commands``: run the example on a SQLite file of its own."""

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from examples.nested_commands.app import main

logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="  log: %(message)s")
with tempfile.TemporaryDirectory() as directory:
    asyncio.run(main(Path(directory)))
