"""``python -m tests.reliability.faulty_service <ordering|billing> [faults]``: a service with a
fault built in, run exactly as ``python -m <service>`` runs it otherwise.

The same settings from the environment, the same `build` and `run_service`; only the seams
the composition roots expose are filled with the wrappers of faults.py. `deploy.cluster`
starts this module instead of the service's own when a test passes ``entry=faulty(...)``.
"""

from __future__ import annotations

import argparse
import logging

from billing_service import bootstrap as billing
from cqrs_ddd_core.adapters.host.plumbing import RelayOptions
from cqrs_ddd_core.adapters.host.run import run_service
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from ordering_service import bootstrap as ordering
from tests.reliability.faults import FaultyPaymentBus, KillAfterPublish

MODULE = "tests.reliability.faulty_service"
logger = logging.getLogger(MODULE)


def faulty(service: str, *faults: str) -> list[str]:
    """The ``entry`` of `Cluster.add` that runs ``service`` with ``faults`` (options below)."""
    return ["-m", MODULE, service, *faults]


def build(args: argparse.Namespace) -> ServiceHost:
    logger.warning("test-only faults on: %s", vars(args))

    def relay_publisher(publisher: IMessagePublisher) -> IMessagePublisher:
        if not args.kill_after_publish:
            return publisher
        return KillAfterPublish(publisher, args.kill_after_publish)

    relay = RelayOptions(wrap_publisher=relay_publisher, lease_seconds=args.lease_seconds)
    if args.service == "ordering":
        return ordering.build(ordering.OrderingSettings(), relay=relay)

    def payment_bus(bus: ICommandBus) -> ICommandBus:
        return FaultyPaymentBus(
            bus,
            delay=args.payment_delay,
            hold_locks=args.hold_locks,
            charge_twice=args.charge_twice,
        )

    return billing.build(billing.BillingSettings(), relay=relay, payment_bus=payment_bus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=["ordering", "billing"])
    parser.add_argument("--kill-after-publish", type=int, default=0, metavar="N")
    parser.add_argument("--lease-seconds", type=float, default=RelayOptions().lease_seconds)
    parser.add_argument("--payment-delay", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--hold-locks", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--charge-twice", action="store_true")
    args = parser.parse_args()
    run_service(lambda: build(args))


if __name__ == "__main__":
    main()
