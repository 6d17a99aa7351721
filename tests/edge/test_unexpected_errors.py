"""A bug behind an endpoint: a generic 500 for the client, the whole story in the log.

The app is the core's `service_app` (as both services build it) over one route whose command
bus fails the way a bug does. The client learns nothing of the inside but a correlation id;
the log holds the traceback under that same id, so a report and the log line meet.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import post
from litestar.testing import AsyncTestClient

from cqrs_ddd_core.adapters.litestar.app import Commands, service_app
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.ports.bus import ICommandBus, IQueryBus
from tests.tokens import TEST_AUTH_SECRET, auth_headers


class CloseTheDay(Command[None]):
    pass


class BrokenBus(ICommandBus, IQueryBus):
    async def send(self, message: Any) -> Any:
        raise KeyError("ledger-secret-column")


@post("/days/close", summary="A route whose handler has a bug")
async def close_the_day(commands: Commands) -> None:
    await commands.send(CloseTheDay())


async def healthy() -> dict[str, Any]:
    return {"status": "ok"}


@pytest.fixture
def app() -> Any:
    bus = BrokenBus()
    return service_app(
        [close_the_day],
        commands=bus,
        queries=bus,
        health_check=healthy,
        auth_secret=TEST_AUTH_SECRET,
    )


async def test_a_bug_is_a_generic_500_with_an_id_and_its_traceback_is_logged_under_that_id(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="cqrs_ddd_core.http")

    async with AsyncTestClient(app=app) as client:
        response = await client.post("/days/close", headers=auth_headers())

    assert response.status_code == 500
    body = response.json()
    assert "ledger-secret-column" not in response.text
    assert "KeyError" not in response.text
    correlation_id = body["correlation_id"]
    assert response.headers["X-Correlation-ID"] == correlation_id
    [record] = [r for r in caplog.records if r.name == "cqrs_ddd_core.http"]
    assert correlation_id in record.getMessage()
    assert "POST /days/close" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], KeyError)


async def test_the_clients_correlation_id_is_the_one_logged_when_it_sent_a_usable_one(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="cqrs_ddd_core.http")
    headers = {**auth_headers(), "X-Correlation-ID": "support-ticket-42"}

    async with AsyncTestClient(app=app) as client:
        response = await client.post("/days/close", headers=headers)

    assert response.json()["correlation_id"] == "support-ticket-42"
    assert "support-ticket-42" in caplog.text


async def test_a_forged_correlation_id_is_not_taken(app: Any) -> None:
    headers = {**auth_headers(), "X-Correlation-ID": "x\r\nSet-Cookie: a=b"}

    async with AsyncTestClient(app=app) as client:
        response = await client.post("/days/close", headers=headers)

    assert response.status_code == 500
    assert "Set-Cookie" not in response.json()["correlation_id"]
