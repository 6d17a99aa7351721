"""The OpenAPI pages of a service, served entirely by the service itself.

``/schema`` (and ``/schema/swagger``) is Swagger UI over the service's OpenAPI 3.1 document
(``/schema/openapi.json``). Litestar's render plugins load the UI's scripts, styles and icon
from public CDNs by default, so the page stays blank on a machine without internet access - a
laptop on a train, a locked-down network - and every visit tells the CDN who reads the API.
Here the page points at the same service instead: ``/schema/assets/...`` serves the files
Swagger UI ships in the ``swagger-ui-py`` package, read from the installed package.
Guide: docs/deployment.md.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

ASSETS_PATH = "/schema/assets"
"""Where the service serves Swagger UI's files."""
ASSETS = Path(str(files("swagger_ui") / "static"))
"""Swagger UI's distribution, as the ``swagger-ui-py`` package installs it."""


def openapi_config(title: str = "Litestar API", version: str = "1.0.0") -> OpenAPIConfig:
    """The OpenAPI document and its one UI, whose page references this service alone."""
    swagger = SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )
    return OpenAPIConfig(title=title, version=version, render_plugins=[swagger])


def openapi_assets() -> Router:
    """The routes serving Swagger UI's files under `ASSETS_PATH` (browsers keep them a day)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        name="openapi-assets",
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=86_400, public=True),
    )
