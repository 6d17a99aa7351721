"""The two modes the cross-context scenarios run in: the `deployment` fixture.

``embedded`` - both services in this process on one in-memory broker, fresh per scenario;
``processes`` - each service its own OS process over the real RabbitMQ (marked ``rabbitmq``
and ``slow``), started once per test module and shared by its scenarios, which use account ids
of their own. Select one with ``-k embedded`` / ``-k processes`` or ``-m "not rabbitmq"``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cqrs_ddd_core.primitives.ids import new_id
from deploy.cluster import Cluster
from tests.bdd.cross_context.deployment import Deployment
from tests.bdd.cross_context.embedded import EmbeddedDeployment
from tests.bdd.cross_context.processes import ProcessesDeployment, running_services
from tests.bdd.cross_context.story import Story
from tests.conftest import Run


@pytest.fixture(scope="module")
def service_processes(
    rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Billing and ordering as OS processes on a virtual host of this module's own."""
    with running_services(rabbitmq_url, tmp_path_factory.mktemp("services")) as cluster:
        yield cluster


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("processes", marks=[pytest.mark.rabbitmq, pytest.mark.slow]),
    ]
)
def deployment(request: pytest.FixtureRequest, run: Run) -> Iterator[Deployment]:
    if request.param == "processes":
        # Looked up only here, so the embedded mode needs no broker at all.
        yield ProcessesDeployment(request.getfixturevalue("service_processes"))
        return
    embedded: EmbeddedDeployment = run(EmbeddedDeployment.start)
    try:
        yield embedded
    finally:
        run(embedded.stop)


@pytest.fixture
def story(run: Run, deployment: Deployment) -> Story:
    """The scenario's story, with account ids of its own (the services may be shared)."""
    merchant_opening = run(deployment.balance, deployment.merchant_account)
    return Story(deployment, new_id()[:8], merchant_opening)
