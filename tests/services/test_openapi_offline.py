"""The OpenAPI UI works without internet access: the service serves everything its page loads.

Litestar's render plugins fetch Swagger UI (and the others) from public CDNs by default; the
services' page references only URLs of the service itself, and each of them answers - so the
page works on a machine with no way out, and no reader's visit is announced to a third party.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import AsyncTestClient

from billing_service import bootstrap as billing
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering
from tests.tokens import TEST_AUTH_SECRET

Client = AsyncTestClient[Any]


class References(HTMLParser):
    """Every URL a page makes the browser load: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def build(name: str, tmp_path: Path, broker: InMemoryBroker) -> ServiceHost:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
    if name == "ordering":
        settings = ordering.OrderingSettings(
            database_url=database_url, auth_secret=TEST_AUTH_SECRET
        )
        return ordering.build(settings, broker=broker)
    return billing.build(
        billing.BillingSettings(database_url=database_url, auth_secret=TEST_AUTH_SECRET),
        broker=broker,
    )


@pytest.fixture(params=["ordering", "billing"])
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Client]:
    broker = InMemoryBroker(mandatory=False)
    service = build(request.param, tmp_path, broker)
    async with AsyncTestClient(app=service.create_app()) as client:
        yield client
    await broker.stop()


async def references(client: Client, page: str) -> list[str]:
    response = await client.get(page)  # the OpenAPI pages are public: no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    parser = References()
    parser.feed(response.text)
    return parser.urls


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_the_openapi_page_loads_nothing_from_another_origin(
    client: Client, page: str
) -> None:
    urls = await references(client, page)

    assert urls, "the page loads no script at all"
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), f"{page} loads {url} from elsewhere"
        assert url.startswith("/schema/"), url


async def test_every_file_the_page_loads_is_served_by_the_service(client: Client) -> None:
    expected_types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in await references(client, "/schema"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.content, url
        kind = expected_types[Path(url).suffix]
        assert response.headers["content-type"].startswith(kind), (url, response.headers)


async def test_the_page_shows_the_services_own_openapi_document(client: Client) -> None:
    page = (await client.get("/schema")).text
    document = (await client.get("/schema/openapi.json")).json()

    assert document["openapi"].startswith("3.1")
    bundle = (await client.get("/schema/assets/swagger-ui-bundle.js")).content
    assert b"isOAS31" in bundle  # a Swagger UI that renders 3.1 (version 5; 4 shows an error)
    assert "SwaggerUIBundle(" in page
    assert "/health/ready" in page
