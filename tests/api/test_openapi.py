"""The one API document: valid OpenAPI 3.1, generated from the models, committed as
`docs/openapi.json`, served by both services, in step with their routes, and saying what
the code checks.

The route check builds each service's app with its own `setup` (real NATS and
PostgreSQL), so a route added to the code but not to the document, or declared but not
served, or served by the other service than the document says, fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import jsonschema_rs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from pydantic import SecretStr, ValidationError
from schemathesis.specs.openapi.definitions import OPENAPI_31

from services.intake import __main__ as intake_main
from services.status import __main__ as status_main
from services.status.api.params import decode_cursor, encode_cursor
from shared import api_document, routes
from shared.api_document import COMMITTED, OPERATOR_PATHS, SERVICES, document
from shared.api_models import ReadingAccepted
from shared.openapi import (
    DOCS_ASSETS,
    PUBLIC_PATH_PREFIXES,
    add_docs_routes,
    is_public_path,
    swagger_ui_static_dir,
)
from shared.problem import ProblemDetails
from shared.reading_request import TIMEZONES, validate_request
from shared.settings import IntakeSettings, LauncherSettings, StatusSettings
from tests.api.apps import service_app

SERVICE_NAMES = ("intake", "status")
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


def valid_by_document(schema: dict[str, Any], value: Any) -> bool:
    """Whether the document's `schema` admits `value`, as schemathesis reads it (jsonschema-rs:
    ECMA-262 patterns, where `$` is the end of the text; formats checked)."""
    root = {**schema, "components": document()["components"]}
    return bool(jsonschema_rs.validator_for(root, validate_formats=True).is_valid(value))


def component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_document_is_valid_openapi_3_1() -> None:
    doc = document()
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
    [server] = doc["servers"]
    assert server["url"] == "{origin}"
    assert server["variables"]["origin"]["default"] == "http://127.0.0.1:8000"
    assert LauncherSettings.model_fields["gateway_port"].default == 8000


def test_the_committed_document_is_up_to_date() -> None:
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    assert committed == api_document.encoded(), "docs/openapi.json is out of date: run make openapi"
    assert json.loads(committed) == document()


def test_schemas_come_from_the_models() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    assert schemas["ProblemDetails"]["properties"].keys() == ProblemDetails.model_fields.keys()
    assert schemas["ReadingAccepted"]["properties"].keys() == ReadingAccepted.model_fields.keys()
    schemes = doc["components"]["securitySchemes"]
    assert {k: (v["type"], v.get("in"), v.get("name"), v.get("scheme"))
            for k, v in schemes.items()} == {
        "ApiKeyHeader": ("apiKey", "header", "X-API-Key", None),
        "Bearer": ("http", None, None, "bearer"),
        "StreamToken": ("apiKey", "query", "access_token", None),
    }  # fmt: skip
    assert doc["security"] == [{"ApiKeyHeader": []}, {"Bearer": []}]
    # The stream token opens one route: a reading's events.
    with_token = [(m, p) for m, p, op in operations(doc)
                  if {"StreamToken": []} in op.get("security", [])]  # fmt: skip
    assert with_token == [("GET", "/v1/readings/{id}/events")]


def doc_security() -> list[dict[str, list[str]]]:
    return [{"ApiKeyHeader": []}, {"Bearer": []}]


def test_every_operation_is_v1_has_one_service_and_needs_a_key() -> None:
    problem_ref = {"$ref": "#/components/schemas/ProblemDetails"}
    for method, path, op in operations(document()):
        where = f"{method} {path}"
        assert path.startswith("/v1/"), where  # ops and docs endpoints are per process
        assert op["x-service"] in SERVICE_NAMES, where
        assert SERVICES[method, path] == op["x-service"]
        # Never weaker than the global security: at most one more way in (the events' token).
        assert op.get("security", doc_security())[:2] == doc_security(), where
        for status in ("401", "429", "503"):
            assert status in op["responses"], f"{where} lacks {status}"
        assert "500" not in op["responses"]
        assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["required"]
        for status in ("429", "503"):
            assert op["responses"][status]["headers"]["Retry-After"]["required"]
        if "requestBody" in op:
            assert {"413", "422"} <= op["responses"].keys(), where
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {"application/problem+json": {
                    "schema": problem_ref}}, f"{where} {status}"  # fmt: skip


def test_the_edge_routes_each_operation_to_the_service_the_document_names() -> None:
    """`shared/routes.py` (the HTTPRoute's table, the dev gateway's) and `x-service` agree."""
    for method, path, op in operations(document()):
        concrete = re.sub(r"{\w+}", "r1", path)
        rule = routes.route(method, concrete, {})
        assert rule is not None and rule.service == op["x-service"], (method, path)
    for path in OPERATOR_PATHS:  # not public: the edge does not route them
        assert routes.route("GET", path, {}) is None, path


def test_a_new_reading_links_to_everything_a_client_does_with_it() -> None:
    doc = document()
    by_id = {op["operationId"]: (path, op) for _, path, op in operations(doc)}
    follow_ups = {"getReading", "streamReadingEvents", "getBodygraph", "regenerateReading",
                  "cancelReading"}  # fmt: skip
    for source in ("createReading", "regenerateReading"):
        links = by_id[source][1]["responses"]["202"]["links"]
        assert {link["operationId"] for link in links.values()} == follow_ups, source
        for link in links.values():
            path, _ = by_id[link["operationId"]]
            # Every path parameter of the target is given, from the 202's body.
            assert set(link["parameters"]) == set(re.findall(r"{(\w+)}", path)), link
            assert set(link["parameters"].values()) == {"$response.body#/id"}
    assert "id" in doc["components"]["schemas"]["ReadingAccepted"]["required"]


BIRTH = {"date": "1990-01-01", "time": "12:00"}
PLACES: list[tuple[Any, bool]] = [
    ({"latitude": 52.5, "longitude": 13.4}, True),
    ({"latitude": 52.5, "longitude": 13.4, "name": "Berlin", "country": "DE"}, True),
    ({"latitude": 52.5, "longitude": 13.4, "name": None}, True),
    ({"name": "Berlin"}, True),
    ({"name": "Berlin", "country": "de"}, True),
    ({"name": "Berlin", "country": None}, True),
    ({}, False),
    ({"latitude": 52.5}, False),
    ({"longitude": 13.4, "name": "Berlin"}, False),
    ({"name": "Berlin", "latitude": None}, False),
    ({"latitude": None, "longitude": None, "name": "Berlin"}, False),
    ({"latitude": 91, "longitude": 0}, False),
    ({"latitude": "52.5", "longitude": 13.4}, False),
    ({"latitude": True, "longitude": 13.4}, False),
    ({"name": ""}, False),
    ({"name": None}, False),
    ({"country": "DE"}, False),
    ({"name": "Berlin", "country": "DEU"}, False),
    ({"name": "Berlin", "extra": 1}, False),
    ("Berlin", False),
]


def valid_by_code(body: dict[str, Any]) -> bool:
    """Whether intake's own check (`validate_request`) takes the body."""
    try:
        validate_request(json.dumps(body).encode())
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("place", "valid"), PLACES)
def test_a_place_is_what_the_document_says(place: Any, valid: bool) -> None:
    """The document (`oneOf` coordinates or name) and the code agree, both ways."""
    body = {"birth": {**BIRTH, "place": place}}
    by_document = valid_by_document(component("ReadingRequest"), body)
    assert (by_document, valid_by_code(body)) == (valid, valid)


@pytest.mark.parametrize(("birth", "valid"), [
    ({"date": "1800-01-01"}, True),
    ({"date": "2199-12-31"}, True),
    ({"date": "1799-12-31"}, False),
    ({"date": "2200-01-01"}, False),
    ({"date": 0}, False),
    ({"time": "12:00:59"}, True),
    ({"time": "24:00"}, False),
    ({"time": "12:00\n"}, False),
    ({"time": "1\u0662:00"}, False),  # an Arabic-Indic digit: \d in Python, not in JSON
    ({"timezone": "Europe/Berlin"}, True),
    ({"timezone": None}, True),
    ({"timezone": "Nowhere/Else"}, False),
    ({"timezone": "posixrules"}, False),
    ({"utc_offset": "+05:45"}, True),
    ({"utc_offset": "+15:00"}, False),
    ({"id": "x" * 200}, True),
    ({"id": "x" * 201}, False),
])  # fmt: skip
def test_birth_fields_are_what_the_document_says(birth: dict[str, Any], valid: bool) -> None:
    body = {"birth": {**BIRTH, "place": {"name": "Berlin"}, **birth}}
    by_document = valid_by_document(component("ReadingRequest"), body)
    assert (by_document, valid_by_code(body)) == (valid, valid)


def test_the_zones_are_the_tzdata_wheels() -> None:
    schema = document()["components"]["schemas"]["SupportedBirth"]["properties"]["timezone"]
    enum = next(s["enum"] for s in schema["anyOf"] if "enum" in s)
    assert enum == sorted(TIMEZONES) and "Europe/Berlin" in enum


def list_param(name: str) -> dict[str, Any]:
    op = document()["paths"]["/v1/readings"]["get"]
    return next(p["schema"] for p in op["parameters"] if p["name"] == name)


@pytest.mark.parametrize(("cursor", "valid"), [
    ("1700000000000000.abc-DEF_1", True),
    ("0.x", True),
    ("99999999999999999." + "r" * 64, True),
    ("else", False),
    ("", False),
    ("1.2.3", False),
    ("123456789012345678.x", False),
    ("12.", False),
    ("-1.x", False),
    ("12." + "r" * 65, False),
    ("12.x\n", False),
])  # fmt: skip
def test_a_cursor_is_what_the_document_says(cursor: str, valid: bool) -> None:
    by_document = valid_by_document(list_param("cursor"), cursor)
    assert (by_document, decode_cursor(cursor) is not None) == (valid, valid)


def test_cursors_the_api_makes_are_valid_and_round_trip() -> None:
    pattern = list_param("cursor")["pattern"]
    for at in (datetime(2026, 12, 3, 16, 4, 33, 123456, tzinfo=UTC),
               datetime(1970, 1, 1, tzinfo=UTC)):  # fmt: skip
        cursor = encode_cursor(at, "0b5c3f0e-1d4e-4b8e-9a53-0d6c2a6f1e42")
        assert re.fullmatch(pattern.strip("^$"), cursor), cursor
        assert decode_cursor(cursor) == (at, "0b5c3f0e-1d4e-4b8e-9a53-0d6c2a6f1e42")


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
async def test_the_document_lists_exactly_the_routes_both_services_serve(apps) -> None:
    routes = {service: served(app) for service, app in apps.items()}
    api = {s: {r for r in rs if r[1].startswith("/v1/") and r[1] not in OPERATOR_PATHS}
           for s, rs in routes.items()}  # fmt: skip
    documented = {(m, p): op["x-service"] for m, p, op in operations(document())}
    # The union of both services' API routes is the document's operations ...
    assert api["intake"] | api["status"] == documented.keys()
    # ... and each is served by exactly the service the document names.
    for route, service in documented.items():
        others = [s for s in SERVICE_NAMES if s != service]
        assert route in api[service] and not any(route in api[o] for o in others), route
    # Both serve the ops endpoints and the documentation, status its operator endpoints:
    # not public, not in the document.
    for service, rs in routes.items():
        assert {("GET", p) for p in PUBLIC} <= rs, service
    assert {("GET", p) for p in OPERATOR_PATHS} <= routes["status"]


@pytest.mark.integration
async def test_a_405_allows_the_methods_of_the_resource_at_the_one_origin(apps) -> None:
    """`/v1/readings` is `GET` at status and `POST` at intake: one resource to a client, so
    both answer an unsupported method with the same `Allow`, the document's."""
    key = {"X-API-Key": "test-key-0001"}
    for service, app in apps.items():
        async with TestClient(TestServer(app)) as client:
            for method, path, allow in [
                ("PUT", "/v1/readings", "GET,HEAD,POST"),
                ("OPTIONS", "/v1/readings", "GET,HEAD,POST"),
                ("PATCH", "/v1/readings/r1", "DELETE,GET,HEAD"),
            ]:
                resp = await client.request(method, path, headers=key)
                if service == "intake" and path != "/v1/readings":
                    assert resp.status == 404  # not intake's path at all
                    continue
                assert resp.status == 405, (service, method, path)
                assert resp.headers["Allow"] == allow, (service, method, path)
                assert resp.content_type == "application/problem+json"


@pytest.mark.integration
async def test_both_services_serve_the_committed_document_and_a_docs_page(apps) -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for service, app in apps.items():
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/openapi.json")  # no key: public
            assert resp.status == 200, service
            assert resp.content_type == "application/json"
            assert await resp.json() == committed, service
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
