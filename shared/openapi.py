"""OpenAPI 3.1 documents generated from the pydantic models the handlers use, and the docs page.

The API's operations are declared as data (`Operation`, `Param`, `Answer`, `Header`,
`Link`; the one document of both services is `shared/api_document.py`);
`build_document` turns them into an OpenAPI 3.1 document whose component schemas come
from the very models the code validates requests with and builds answers through
(`pydantic.json_schema.models_json_schema`, `$defs` hoisted into
`#/components/schemas`), so the document cannot drift from the code. Each operation
names the service that serves it (`x-service`), and an answer may link to the
operations a client can follow up with (OpenAPI `links`).

Every operation needs an API key (`SECURITY_SCHEMES`: `X-API-Key: <key>` or
`Authorization: Bearer <key>`) unless it is `public`. Every error answer is RFC 9457
problem+json (`shared.problem.ProblemDetails`).

`add_docs_routes(app, document)` serves `GET /openapi.json` (encoded once) and
`GET /docs`, a Swagger UI 5 page whose assets come from the `swagger-ui-py` wheel and
are served by the app itself: the page works with no network. `PUBLIC_PATH_PREFIXES`
lists those paths for the auth middleware (`is_public_path`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.etag import etag_of, matches
from shared.problem import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from shared.problem import ProblemDetails, problem

OPENAPI_VERSION: Final = "3.1.0"
REF_TEMPLATE: Final = "#/components/schemas/{model}"
JSON: Final = "application/json"

OPENAPI_PATH: Final = "/openapi.json"
DOCS_PATH: Final = "/docs"
DOCS_ASSETS_PATH: Final = "/docs/static"
PUBLIC_PATH_PREFIXES: Final = (OPENAPI_PATH, DOCS_PATH)
"""Paths served without an API key besides the ops endpoints: `/openapi.json` and `/docs`
with everything under `/docs/` (the page's assets). Match with `is_public_path`."""

# One entry per way to authenticate; a client may use any one of them (`SECURITY`).
SECURITY_SCHEMES: Final[Mapping[str, Mapping[str, Any]]] = {
    "ApiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "One of the keys configured in `API_KEYS`.",
    },
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A sign-in JWT of the issuer at `AUTH_JWKS_URL` (its `sub` is the "
        "user: their own readings only), or one of the keys as `Authorization: Bearer <key>`.",
    },
    "StreamToken": {
        "type": "apiKey",
        "in": "query",
        "name": "access_token",
        "description": "The short-lived token `events_url` carries: this one reading's "
        "events, read-only (for `EventSource`, which cannot send headers).",
    },
}
SECURITY: Final[list[dict[str, list[str]]]] = [{"ApiKeyHeader": []}, {"Bearer": []}]

# The Swagger UI files the page needs, from the `swagger-ui-py` wheel (nothing else there
# is served: no editor, no source maps).
DOCS_ASSETS: Final[Mapping[str, str]] = {
    "swagger-ui.css": "text/css",
    "index.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
DOCS_INIT: Final = "docs-init.js"  # ours: points Swagger UI at /openapi.json

RetryAfter = Annotated[int, Field(ge=0)]


def is_public_path(path: str) -> bool:
    """Whether `path` is documentation served without a key (`PUBLIC_PATH_PREFIXES`)."""
    return any(path == p or path.startswith(p + "/") for p in PUBLIC_PATH_PREFIXES)


@dataclass(frozen=True, slots=True)
class Param:
    """A path, query or header parameter; `schema` is a type (pydantic builds its JSON
    schema, e.g. `Annotated[int, Field(ge=0)]`) or a JSON schema as a mapping."""

    name: str
    where: Literal["path", "query", "header"]
    schema: Any
    description: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class Header:
    """A response header: a type or JSON schema like `Param`."""

    schema: Any
    description: str = ""
    required: bool = True


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI link: the operation (by id) a client can call next with values of this
    answer, e.g. `{"id": "$response.body#/id"}`."""

    operation_id: str
    parameters: Mapping[str, str]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """One response: `body` is a pydantic model, another type, a JSON schema mapping,
    or None for no body; `links` name the operations to follow up with."""

    description: str
    body: Any = None
    content_type: str = JSON
    headers: Mapping[str, Header] = field(default_factory=dict)
    links: Mapping[str, Link] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    responses: Mapping[int, Answer]
    tags: tuple[str, ...] = ()
    description: str = ""
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    public: bool = False  # served without an API key
    extra_security: tuple[str, ...] = ()  # schemes accepted besides `SECURITY`'s
    service: str = ""  # the service that serves it (`x-service`)


def problem_answer(description: str, headers: Mapping[str, Header] | None = None) -> Answer:
    """An error answer: `application/problem+json` with `ProblemDetails`."""
    return Answer(description, ProblemDetails, PROBLEM_CONTENT_TYPE, dict(headers or {}))


RETRY_AFTER: Final = Header(RetryAfter, "Seconds to wait before trying again.")
ACCEPTED_HEADERS: Final[Mapping[str, Header]] = {
    "Location": Header(str, "The reading's status URL."),
    "Retry-After": Header(RetryAfter, "Seconds until a first poll is useful."),
    "Idempotent-Replayed": Header(
        Literal["true"], "Present when this answers a retry of an earlier request.", False
    ),
}
"""Headers of a 202 `ReadingAccepted` (intake and status)."""


def api_errors(*, body: bool = False, validation: bool = False) -> dict[int, Answer]:
    """The errors every `/v1` operation may answer: 401, 429, 503; 413 with a body; 422."""
    errors = {
        401: problem_answer(
            "No valid API key, sign-in JWT or stream token (`errors` names `Authorization` "
            "or `access_token` and what is wrong with it).",
            {"WWW-Authenticate": Header(str, "`Bearer`: how to authenticate.")},
        ),
        429: problem_answer(
            "Too many requests for this key; wait `Retry-After` seconds.",
            {"Retry-After": RETRY_AFTER},
        ),
        503: problem_answer(
            "The event bus or the database is unavailable; try again after `Retry-After`.",
            {"Retry-After": RETRY_AFTER},
        ),
    }
    if body:
        errors[413] = problem_answer("The body is larger than `API_MAX_BODY_BYTES`.")
    if validation:
        errors[422] = problem_answer("Invalid input; `errors` names each field and what is wrong.")
    return dict(sorted(errors.items()))


def build_document(
    *,
    title: str,
    description: str,
    operations: Iterable[Operation],
    tags: Mapping[str, str] | None = None,
    servers: Iterable[Mapping[str, Any]] = (),
    version: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `operations`, component schemas from their models.

    `version` defaults to the installed project's (`package_version`). Every link must
    name an operation of the document."""
    ops = list(operations)
    refs = _ModelRefs()
    for op in ops:
        if op.body is not None:
            refs.want(op.body, "validation")
        for answer in op.responses.values():
            if isinstance(answer.body, type) and issubclass(answer.body, BaseModel):
                refs.want(answer.body, "serialization")
    schemas, components = refs.generate()

    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        item = paths.setdefault(op.path, {})
        method = op.method.lower()
        if method in item:
            raise ValueError(f"{op.method} {op.path} declared twice")
        item[method] = _operation(op, schemas)
    ids = {op.operation_id for op in ops}
    for op in ops:
        for answer in op.responses.values():
            for link in answer.links.values():
                if link.operation_id not in ids:
                    raise ValueError(f"{op.operation_id} links to unknown {link.operation_id}")

    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": version or package_version(),
            "description": description,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [dict(s) for s in servers],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {k: dict(v) for k, v in SECURITY_SCHEMES.items()},
        },
        "security": [dict(s) for s in SECURITY],
    }
    if tags:
        document["tags"] = [{"name": n, "description": d} for n, d in tags.items()]
    return document


def package_version(distribution: str = "hd-pipeline", default: str = "0.0.0") -> str:
    """The installed version of the project (the documents' `info.version`)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return default


_Key = tuple[Any, JsonSchemaMode]  # (model, mode)


class _ModelRefs:
    """Collects (model, mode) pairs and generates their schemas in one pass, so a model
    used in both modes with different shapes gets distinct, consistent component names."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}

    def want(self, model: type[BaseModel], mode: JsonSchemaMode) -> None:
        self._wanted[(model, mode)] = None

    def generate(
        self,
    ) -> tuple[dict[_Key, dict[str, Any]], dict[str, Any]]:
        keys = list(self._wanted)
        by_key, top = models_json_schema(keys, ref_template=REF_TEMPLATE)
        return {k: dict(v) for k, v in by_key.items()}, dict(top.get("$defs", {}))


def _schema_of(source: Any) -> dict[str, Any]:
    """The JSON schema of a type (via pydantic) or of a JSON schema mapping (as is)."""
    if isinstance(source, Mapping):
        return dict(source)
    schema = TypeAdapter(source).json_schema(ref_template=REF_TEMPLATE)
    if "$defs" in schema:
        raise ValueError(f"{source!r}: declare models as bodies, not as parameters or headers")
    return schema


def _body_schema(
    source: Any, mode: JsonSchemaMode, schemas: Mapping[_Key, dict[str, Any]]
) -> dict[str, Any]:
    if isinstance(source, type) and issubclass(source, BaseModel):
        return dict(schemas[(source, mode)])
    return _schema_of(source)


def _operation(op: Operation, schemas: Mapping[_Key, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.tags:
        out["tags"] = list(op.tags)
    if op.description:
        out["description"] = op.description
    if op.public:
        out["security"] = []  # no key needed
    elif op.extra_security:
        out["security"] = [dict(s) for s in SECURITY] + [{n: []} for n in op.extra_security]
    if op.service:
        out["x-service"] = op.service
    if op.params:
        out["parameters"] = [_parameter(p) for p in op.params]
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {JSON: {"schema": _body_schema(op.body, "validation", schemas)}},
        }
    responses: dict[str, Any] = {}
    for status, answer in sorted(op.responses.items()):
        response: dict[str, Any] = {"description": answer.description}
        if answer.headers:
            response["headers"] = {name: _header(h) for name, h in sorted(answer.headers.items())}
        if answer.body is not None:
            response["content"] = {
                answer.content_type: {"schema": _body_schema(answer.body, "serialization", schemas)}
            }
        if answer.links:
            response["links"] = {name: _link(k) for name, k in sorted(answer.links.items())}
        responses[str(status)] = response
    out["responses"] = responses
    return out


def _parameter(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": p.name,
        "in": p.where,
        "required": p.required or p.where == "path",
    }
    if p.description:
        out["description"] = p.description
    out["schema"] = _schema_of(p.schema)
    return out


def _link(link: Link) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": link.operation_id, "parameters": dict(link.parameters)}
    if link.description:
        out["description"] = link.description
    return out


def _header(h: Header) -> dict[str, Any]:
    out: dict[str, Any] = {"required": h.required, "schema": _schema_of(h.schema)}
    if h.description:
        out["description"] = h.description
    return out


# --- serving -------------------------------------------------------------------------

_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="./docs/static/swagger-ui.css">
<link rel="stylesheet" href="./docs/static/index.css">
<link rel="icon" type="image/png" href="./docs/static/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="./docs/static/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="./docs/static/swagger-ui-bundle.js" charset="utf-8"></script>
<script src="./docs/static/swagger-ui-standalone-preset.js" charset="utf-8"></script>
<script src="./docs/static/{init}" charset="utf-8"></script>
</body>
</html>
"""

# No `validatorUrl`: Swagger UI would otherwise fetch a badge from validator.swagger.io.
_DOCS_INIT_JS = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "./openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    persistAuthorization: false,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
"""

_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def swagger_ui_static_dir() -> Path:
    """Where the `swagger-ui-py` wheel keeps the Swagger UI 5 distribution files."""
    return Path(str(resources.files("swagger_ui") / "static"))


def add_docs_routes(app: web.Application, document: Mapping[str, Any]) -> None:
    """Serve `document` at `GET /openapi.json` and the offline Swagger UI at `GET /docs`."""
    body = json.dumps(document, separators=(",", ":")).encode()
    etag = etag_of(body)
    title = str(document.get("info", {}).get("title", "API"))
    page = _DOCS_PAGE.format(title=_html_escape(title), init=DOCS_INIT).encode()
    init_js = _DOCS_INIT_JS.encode()
    static_dir = swagger_ui_static_dir()
    assets = {name: static_dir / name for name in DOCS_ASSETS}
    missing = [str(p) for p in assets.values() if not p.is_file()]
    if missing:
        raise RuntimeError(f"swagger-ui-py assets missing: {', '.join(missing)}")

    async def openapi(request: web.Request) -> web.Response:
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if matches(request, etag):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type=JSON, headers=headers)

    async def docs(_: web.Request) -> web.Response:
        return web.Response(
            body=page,
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": _DOCS_CSP, "X-Content-Type-Options": "nosniff"},
        )

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == DOCS_INIT:
            return web.Response(
                body=init_js,
                content_type="text/javascript",
                charset="utf-8",
                headers={"X-Content-Type-Options": "nosniff"},
            )
        path = assets.get(name)
        if path is None:
            return problem(404, "Not Found", f"no file {name!r}", kind="not-found")
        return web.FileResponse(
            path,
            headers={
                "Content-Type": DOCS_ASSETS[name],
                "Cache-Control": "public, max-age=86400",
                "X-Content-Type-Options": "nosniff",
            },
        )

    app.router.add_get(OPENAPI_PATH, openapi)
    app.router.add_get(DOCS_PATH, docs)
    app.router.add_get(DOCS_ASSETS_PATH + "/{name}", asset)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
