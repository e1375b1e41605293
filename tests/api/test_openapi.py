"""Both OpenAPI documents: valid OpenAPI 3.1, generated from the models, in step with the routes.

The route check builds each service's app with its own `setup` (real NATS and
PostgreSQL), so a route added to the code but not to the document, or declared
but not served, fails here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from pydantic import SecretStr
from schemathesis.specs.openapi.definitions import OPENAPI_31

from services.intake import __main__ as intake_main
from services.intake import openapi as intake_openapi
from services.status import __main__ as status_main
from services.status import openapi as status_openapi
from shared.api_models import ReadingAccepted
from shared.openapi import (
    DOCS_ASSETS,
    PUBLIC_PATH_PREFIXES,
    add_docs_routes,
    is_public_path,
    swagger_ui_static_dir,
)
from shared.problem import ProblemDetails
from shared.settings import IntakeSettings, StatusSettings
from tests.api.apps import service_app

DOCUMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "intake": intake_openapi.document,
    "status": status_openapi.document,
}
PUBLIC = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


@pytest.mark.parametrize("service", DOCUMENTS)
def test_document_is_valid_openapi_3_1(service: str) -> None:
    doc = DOCUMENTS[service]()
    assert doc["openapi"] == "3.1.0"
    # The OpenAPI 3.1 schema (as shipped with schemathesis, offline) ...
    jsonschema.Draft202012Validator(OPENAPI_31).validate(doc)
    # ... which leaves the JSON schemas themselves to their own meta-schema.
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema), name
    for method, path, op in operations(doc):
        in_path = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert in_path == set(re.findall(r"{(\w+)}", path)), (method, path)
        for param in op.get("parameters", []):
            jsonschema.Draft202012Validator.check_schema(param["schema"])
            if param["in"] == "path":
                assert f"{{{param['name']}}}" in path and param["required"]
        for response in op["responses"].values():
            for header in response.get("headers", {}).values():
                jsonschema.Draft202012Validator.check_schema(header["schema"])
        assert re.fullmatch(r"[a-z][A-Za-z]+", op["operationId"]), (method, path)
    ids = [op["operationId"] for *_, op in operations(doc)]
    assert len(ids) == len(set(ids))
    # Every reference resolves to a component.
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref


@pytest.mark.parametrize("service", DOCUMENTS)
def test_schemas_come_from_the_models(service: str) -> None:
    doc = DOCUMENTS[service]()
    schemas = doc["components"]["schemas"]
    assert schemas["ProblemDetails"]["properties"].keys() == ProblemDetails.model_fields.keys()
    assert schemas["ReadingAccepted"]["properties"].keys() == ReadingAccepted.model_fields.keys()
    assert doc["components"]["securitySchemes"] == {
        "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                         "description": "One of the keys configured in `API_KEYS`."},
        "Bearer": {"type": "http", "scheme": "bearer",
                   "description": "The same key as `Authorization: Bearer <key>`."},
    }  # fmt: skip
    assert doc["security"] == [{"ApiKeyHeader": []}, {"Bearer": []}]


@pytest.mark.parametrize("service", DOCUMENTS)
def test_every_error_is_problem_json_and_every_v1_operation_needs_a_key(service: str) -> None:
    problem_ref = {"$ref": "#/components/schemas/ProblemDetails"}
    for method, path, op in operations(DOCUMENTS[service]()):
        where = f"{method} {path}"
        if path.startswith("/v1/"):
            assert "security" not in op, f"{where} overrides the global security"
            for status in ("401", "429", "503"):
                assert status in op["responses"], f"{where} lacks {status}"
            assert "500" not in op["responses"]
            assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["required"]
            for status in ("429", "503"):
                assert op["responses"][status]["headers"]["Retry-After"]["required"]
            if "requestBody" in op:
                assert {"413", "422"} <= op["responses"].keys(), where
        else:
            assert path in PUBLIC and op["security"] == [], where
        for status, response in op["responses"].items():
            if int(status) >= 400 and path.startswith("/v1/"):
                assert response["content"] == {"application/problem+json": {
                    "schema": problem_ref}}, f"{where} {status}"  # fmt: skip


def test_public_paths_are_the_documentation() -> None:
    assert PUBLIC_PATH_PREFIXES == ("/openapi.json", "/docs")
    assert is_public_path("/openapi.json") and is_public_path("/docs")
    assert is_public_path("/docs/static/swagger-ui.css")
    assert not is_public_path("/docsx") and not is_public_path("/v1/readings")


@pytest.fixture
async def apps(
    nc: NATS, js: JetStreamContext, database_url: str
) -> AsyncIterator[dict[str, web.Application]]:
    intake = IntakeSettings(api_keys=SecretStr("t=test-key-0001"))
    status = StatusSettings(api_keys=SecretStr("t=test-key-0001"),
                            database_url=SecretStr(database_url))  # fmt: skip
    async with (
        service_app("intake", intake_main.setup, intake, nc, js) as intake_app,
        service_app(
            "status", status_main.setup, status, nc, js, status_main.DATABASE
        ) as status_app,  # fmt: skip
    ):
        yield {"intake": intake_app, "status": status_app}


def served(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method not in {"HEAD", "OPTIONS"}
    }


@pytest.mark.integration
async def test_the_documents_list_exactly_the_routes_each_service_serves(apps) -> None:
    for service, app in apps.items():
        routes = served(app)
        documented = {(m, p) for m, p, _ in operations(DOCUMENTS[service]())}
        api = {r for r in routes if r[1].startswith("/v1/")}
        assert api == {r for r in documented if r[1].startswith("/v1/")}, service
        # The documentation and ops endpoints are served too (and documented).
        assert {("GET", p) for p in PUBLIC} <= routes & documented, service


@pytest.mark.integration
async def test_services_serve_their_document_and_an_offline_docs_page(apps) -> None:
    for service, app in apps.items():
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/openapi.json")  # no key: public
            assert resp.status == 200, service
            assert resp.content_type == "application/json"
            assert await resp.json() == DOCUMENTS[service]()
            etag = resp.headers["ETag"]
            resp = await client.get("/openapi.json", headers={"If-None-Match": etag})
            assert resp.status == 304

            resp = await client.get("/docs")
            assert resp.status == 200 and resp.content_type == "text/html", service
            page = await resp.text()
            await check_page_is_self_contained(client, page)

            resp = await client.get("/v1/readings/x")  # while /v1 does need the key
            assert resp.status == 401


async def check_page_is_self_contained(client: TestClient[Any, Any], page: str) -> None:
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and not [u for u in urls if not u.startswith("./docs/static/")], urls
    assert "//" not in page.replace("<!DOCTYPE", "")  # no absolute URL at all
    for url in urls:
        resp = await client.get(url.removeprefix("."))
        assert resp.status == 200, url
        body = await resp.read()
        name = url.rsplit("/", 1)[1]
        if name in DOCS_ASSETS:
            assert resp.content_type == DOCS_ASSETS[name]
            assert body == (swagger_ui_static_dir() / name).read_bytes()
        else:  # our initializer: the document of this origin, no online validator
            text = body.decode()
            assert 'url: "./openapi.json"' in text and "validatorUrl: null" in text
    resp = await client.get("/docs/static/swagger-editor-bundle.js")
    assert resp.status == 404  # only the files the page needs are served


async def test_docs_page_alone() -> None:
    """`add_docs_routes` works on any app: the version of Swagger UI is 5 (OpenAPI 3.1)."""
    app = web.Application()
    add_docs_routes(app, {"openapi": "3.1.0", "info": {"title": "T <&>", "version": "1"},
                          "paths": {}})  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/docs")).text()
        assert "<title>T &lt;&amp;&gt;</title>" in page
        await check_page_is_self_contained(client, page)
        bundle = await (await client.get("/docs/static/swagger-ui-bundle.js")).text()
        assert re.search(r'PACKAGE_VERSION:"5\.\d+\.\d+"', bundle)
