"""The two modes of the observability scenarios: the `traced` fixture.

``embedded`` - fresh per scenario; ``processes`` - the services as OS processes over the real
RabbitMQ exporting to this module's OTLP collector (marked ``rabbitmq`` and ``slow``), started
once per test module. Select one with ``-k embedded`` / ``-k processes``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cqrs_ddd_core.primitives.ids import new_id
from tests.bdd.cross_context.processes import running_services
from tests.bdd.cross_context.story import Story
from tests.bdd.observability.spans import OtlpCollector
from tests.bdd.observability.traced import OTEL_ENV, Traced, TracedEmbedded, TracedProcesses
from tests.conftest import Run


@pytest.fixture(scope="module")
def traced_processes(
    rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TracedProcesses]:
    with OtlpCollector() as collector:
        env = {**OTEL_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
        workdir = tmp_path_factory.mktemp("traced-services")
        with running_services(rabbitmq_url, workdir, extra_env=env) as cluster:
            yield TracedProcesses(cluster, collector)


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("processes", marks=[pytest.mark.rabbitmq, pytest.mark.slow]),
    ]
)
def traced(request: pytest.FixtureRequest, run: Run) -> Iterator[Traced]:
    if request.param == "processes":
        yield request.getfixturevalue("traced_processes")
        return
    embedded: TracedEmbedded = run(TracedEmbedded.start)
    try:
        yield embedded
    finally:
        run(embedded.stop)


@pytest.fixture
def story(run: Run, traced: Traced) -> Story:
    merchant_opening = run(traced.deployment.balance, traced.deployment.merchant_account)
    return Story(traced.deployment, new_id()[:8], merchant_opening)
