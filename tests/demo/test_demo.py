"""`just demo` tells every pattern's story on the real services, and exits 0 only when it is true.

The demo runs as a newcomer runs it - `python -m demo` in a process of its own - once on the
embedded default, once over RabbitMQ, and once with a check broken on purpose, to prove a
failing check really fails the run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aio_pika
import pytest
from aio_pika.exceptions import ChannelNotFoundEntity

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "The mediator and the unit of work",
    "A nested command commits once with its parent",
    "TransferFunds: opposite transfers at once, no deadlock",
    "Routing: integration, notifications, in-process",
    "Outbox -> broker -> consumer, across the two services",
    "A broker failure, retried from the outbox, nothing lost",
    "A duplicate delivery absorbed by the inbox",
    "A poison message dead-lettered with its reason",
    "The story of one order across both services",
    "A payment deadline: billing too late, nothing charged in the end",
)


def run_demo(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin", "TERM": "dumb", **env},
    )


def assert_whole_story_held(finished: subprocess.CompletedProcess[str]) -> None:
    assert finished.returncode == 0, finished.stdout + finished.stderr
    headings = [f"{number}. {title}" for number, title in enumerate(SECTIONS, start=1)]
    for heading in headings:
        assert heading in finished.stdout
    positions = [finished.stdout.index(heading) for heading in headings]
    assert positions == sorted(positions), "the sections ran out of their order"
    assert "checks held" in finished.stdout
    assert "✘" not in finished.stdout


def test_the_demo_tells_every_section_and_every_check_holds() -> None:
    assert_whole_story_held(run_demo())


@pytest.mark.rabbitmq
async def test_the_same_story_holds_over_rabbitmq_and_leaves_nothing_declared(
    rabbitmq_url: str,
) -> None:
    finished = run_demo("--rabbitmq", AMQP_URL=rabbitmq_url)

    assert_whole_story_held(finished)
    assert "RabbitMQ" in finished.stdout
    found = re.search(r"'(demo-[0-9a-f]{8})\.events'", finished.stdout)
    assert found is not None, finished.stdout
    prefix = found.group(1)
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        queues = ("billing.orders", "billing.cancellations", "ordering.payments")
        for queue in (*queues, "demo.tap.integration"):
            for name in (f"{prefix}.{queue}", f"{prefix}.{queue}.dead-letter"):
                channel = await connection.channel()
                with pytest.raises(ChannelNotFoundEntity):
                    await channel.declare_queue(name, passive=True)
        channel = await connection.channel()
        with pytest.raises(ChannelNotFoundEntity):
            await channel.declare_exchange(f"{prefix}.events", passive=True)
    finally:
        await connection.close()


def test_a_check_that_does_not_hold_makes_the_demo_exit_1() -> None:
    # DEMO_BREAK_CHECK is a test-only switch: the first check of the named section fails.
    finished = run_demo(DEMO_BREAK_CHECK="inbox")

    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "1 of" in finished.stdout
    assert "checks failed" in finished.stdout
    assert "✘ the same message really travelled twice" in finished.stdout
    assert "checks held" not in finished.stdout
    assert f"{len(SECTIONS)}. {SECTIONS[-1]}" in finished.stdout  # the story still ran to its end


def test_every_file_and_scenario_the_demo_names_exists() -> None:
    modules = [ROOT / "demo" / "walkthrough.py", *sorted((ROOT / "demo" / "sections").glob("*.py"))]
    source = "\n".join(module.read_text() for module in modules)
    named = re.findall(r'"((?:core|ordering_service|billing_service|features)/[^" ]+)', source)

    assert len(named) > 20
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing, f"the demo names files that do not exist: {missing}"
