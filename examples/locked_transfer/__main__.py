"""``uv run python -m examples.locked_transfer [DATABASE_URL]``: SQLite files by default."""

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from examples.locked_transfer.app import main

logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="  log: %(message)s")
if len(sys.argv) > 1:  # e.g. postgresql+asyncpg://localhost/test - locks in the same database
    asyncio.run(main(sys.argv[1]))
else:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'wallets.db'}"
        asyncio.run(main(url, locks_url=f"sqlite+aiosqlite:///{Path(directory) / 'locks.db'}"))
