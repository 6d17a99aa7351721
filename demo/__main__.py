"""`uv run just demo`: a narrated walk through every pattern, on the two real services.

``--rabbitmq`` runs the same story over RabbitMQ (``AMQP_URL``, default
amqp://guest:guest@127.0.0.1:5672/) instead of the in-process broker. The exit status is 0 only
when every check held.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import traceback
from urllib.parse import urlsplit

from demo.narration import Narrator
from demo.stack import DEFAULT_AMQP_URL, BrokerSide, EmbeddedBroker, RabbitBroker, running
from demo.walkthrough import walk


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo", description="A narrated walk through the patterns."
    )
    parser.add_argument(
        "--rabbitmq",
        action="store_true",
        help=f"run over RabbitMQ at AMQP_URL (default {DEFAULT_AMQP_URL}) instead of the "
        "in-process broker",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print the services' own logs"
    )
    return parser.parse_args(argv)


async def run(narrator: Narrator, side: BrokerSide, *, verbose: bool) -> None:
    services = running(side, verbose=verbose)
    with narrator.waiting("starting ordering and billing"):
        stack = await services.__aenter__()
    try:
        await walk(narrator, stack)
    except BaseException as error:
        await services.__aexit__(type(error), error, error.__traceback__)
        raise
    with narrator.waiting(f"stopping both services gracefully{side.farewell}"):
        await services.__aexit__(None, None, None)


def reachable(amqp_url: str) -> bool:
    address = urlsplit(amqp_url)
    try:
        socket.create_connection((address.hostname, address.port or 5672), timeout=2).close()
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    narrator = Narrator()
    side: BrokerSide = (
        RabbitBroker(os.environ.get("AMQP_URL", DEFAULT_AMQP_URL))
        if options.rabbitmq
        else EmbeddedBroker()
    )
    narrator.console.rule("[bold]CQRS/DDD reference application - the walkthrough[/]")
    if isinstance(side, RabbitBroker) and not reachable(side.amqp_url):
        narrator.fail(
            f"RabbitMQ does not answer at {side.address}: start it (rabbitmq-server -detached), "
            f"set AMQP_URL, or run the demo without --rabbitmq"
        )
        return narrator.finish()
    try:
        asyncio.run(run(narrator, side, verbose=options.verbose))
    except Exception as error:  # the story stopped half-way: say where, and fail
        narrator.console.print(traceback.format_exc(), markup=False, highlight=False)
        narrator.fail(f"the walkthrough ran to its end ({type(error).__name__}: {error})")
    return narrator.finish()


if __name__ == "__main__":
    sys.exit(main())
