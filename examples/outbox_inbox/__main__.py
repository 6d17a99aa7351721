"""``uv run python -m examples.outbox_inbox``: run the example on a SQLite file of its own."""

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from examples.outbox_inbox.app import main

logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="  log: %(message)s")
with tempfile.TemporaryDirectory() as directory:
    asyncio.run(main(Path(directory)))
