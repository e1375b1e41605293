"""The HTTP client: the intake and status APIs, like any other client uses them.

Errors come back as `ApiError` (from `application/problem+json` when the server
sent it, naming each field) or `Unreachable`. A 429 is retried after its
`Retry-After`; a 503 too when a retry cannot start the work twice (reads, and a
submit carrying an `Idempotency-Key`, which `submit` always sends).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import aiohttp

from hdq.errors import ApiError, FieldError, Unreachable, UsageError

DEFAULT_INTAKE_URL = "http://127.0.0.1:8080"
DEFAULT_STATUS_URL = "http://127.0.0.1:8081"
SSE_READ_TIMEOUT_S = 60.0  # several server heartbeats (15 s by default); then reconnect
MAX_RETRY_WAIT_S = 30.0


def _user_agent() -> str:
    try:
        return f"hdq/{version('hd-pipeline')}"
    except PackageNotFoundError:
        return "hdq"


@dataclass(frozen=True)
class Accepted:
    """A 202 answer: the work was queued."""

    id: str
    version: int
    status: str
    status_url: str
    events_url: str
    raw: dict[str, Any]


class Client:
    """Use as `async with Client(...) as c:`; one connection pool for the whole command."""

    def __init__(
        self,
        intake_url: str = DEFAULT_INTAKE_URL,
        status_url: str = DEFAULT_STATUS_URL,
        api_key: str | None = None,
        *,
        timeout_s: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        self.intake_url = _base(intake_url, "intake")
        self.status_url = _base(status_url, "status")
        self._api_key = api_key or None
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._session: aiohttp.ClientSession | None = None
        # The key goes only to the servers the user named, never to a host a link points at.
        self._trusted = {_origin(self.intake_url), _origin(self.status_url)}

    async def __aenter__(self) -> Client:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._timeout_s, connect=self._timeout_s),
            headers={"User-Agent": _user_agent()},
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the API -----------------------------------------------------------------------

    async def submit(self, body: Mapping[str, Any], idempotency_key: str | None = None) -> Accepted:
        """`POST /v1/readings` on intake."""
        key = idempotency_key or str(uuid.uuid4())
        _, answer = await self._request(
            "intake",
            "POST",
            self.intake_url + "/v1/readings",
            json_body=body,
            headers={"Idempotency-Key": key},
            retry_unavailable=True,
        )
        return self._accepted(answer)

    async def get(self, reading_id: str) -> dict[str, Any]:
        """`GET /v1/readings/{id}` on status."""
        _, answer = await self._request("status", "GET", self.reading_url(reading_id))
        return _object(answer)

    async def list_readings(
        self, user_id: str, limit: int | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        """`GET /v1/readings?user_id=` on status: `{"items": [...], "next_cursor"}`."""
        params = {"user_id": user_id}
        if limit is not None:
            params["limit"] = str(limit)
        if cursor:
            params["cursor"] = cursor
        _, answer = await self._request(
            "status", "GET", self.status_url + "/v1/readings", params=params
        )
        return _object(answer)

    async def pipeline(self) -> dict[str, Any]:
        """`GET /v1/pipeline` on status."""
        _, answer = await self._request("status", "GET", self.status_url + "/v1/pipeline")
        return _object(answer)

    async def regenerate(
        self,
        reading_id: str,
        agent: str | None = None,
        language: str | None = None,
        priority: str | None = None,
    ) -> Accepted:
        """`POST /v1/readings/{id}/regenerate` on status (a new version)."""
        fields = (("agent", agent), ("language", language), ("priority", priority))
        body = {k: v for k, v in fields if v is not None}
        _, answer = await self._request(
            "status", "POST", self.reading_url(reading_id) + "/regenerate", json_body=body
        )
        return self._accepted(answer)

    async def cancel(self, reading_id: str) -> dict[str, Any]:
        """`DELETE /v1/readings/{id}` on status."""
        _, answer = await self._request("status", "DELETE", self.reading_url(reading_id))
        return _object(answer)

    @asynccontextmanager
    async def event_stream(
        self, url: str, last_event_id: str | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse | None]:
        """One SSE connection to `url`; None when the server says the stream is over (204).

        A connection that cannot be made, or drops while the caller reads it, raises
        `Unreachable`; the caller reconnects with the last event id it saw."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self._timeout_s, sock_read=SSE_READ_TIMEOUT_S
        )
        try:
            async with self._http.get(
                url, headers=self._headers(url, headers), timeout=timeout
            ) as resp:
                if resp.status == 204:
                    yield None
                    return
                if resp.status >= 400:
                    raise await _api_error(resp)
                yield resp
        except aiohttp.InvalidURL as exc:
            raise UsageError(f"invalid URL {url!r}") from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
            raise Unreachable("status", url, _reason(exc, SSE_READ_TIMEOUT_S)) from exc

    # -- URLs --------------------------------------------------------------------------

    def reading_url(self, reading_id: str) -> str:
        return f"{self.status_url}/v1/readings/{quote(reading_id, safe='')}"

    def events_url(self, reading_id: str) -> str:
        return self.reading_url(reading_id) + "/events"

    def resolve(self, link: str) -> str:
        """A link from an answer: relative ones are relative to the status service."""
        return urljoin(self.status_url + "/", link)

    # -- plumbing ----------------------------------------------------------------------

    @property
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use the client inside `async with`")
        return self._session

    def _headers(self, url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", **(extra or {})}
        if self._api_key and _origin(url) in self._trusted:
            headers["X-API-Key"] = self._api_key
        return headers

    def _accepted(self, answer: Any) -> Accepted:
        body = _object(answer)
        try:
            reading_id = str(body["id"])
            status_url = self.resolve(str(body.get("status_url") or self.reading_url(reading_id)))
            events_url = self.resolve(str(body.get("events_url") or self.events_url(reading_id)))
            return Accepted(
                id=reading_id,
                version=int(body.get("version", 1)),
                status=str(body.get("status", "queued")),
                status_url=status_url,
                events_url=events_url,
                raw=body,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(
                202, "Unexpected answer", url="", detail=f"no reading id in {body!r}"
            ) from exc

    async def _request(
        self,
        service: str,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_unavailable: bool | None = None,
    ) -> tuple[int, Any]:
        if retry_unavailable is None:
            retry_unavailable = method == "GET"
        attempt = 0
        while True:
            try:
                async with self._http.request(
                    method, url, json=json_body, params=params, headers=self._headers(url, headers)
                ) as resp:
                    if resp.status < 400:
                        return resp.status, await _json_or_none(resp)
                    error = await _api_error(resp)
            except aiohttp.InvalidURL as exc:
                raise UsageError(f"invalid {service} URL {url!r}") from exc
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
                base = self.intake_url if service == "intake" else self.status_url
                raise Unreachable(service, base, _reason(exc, self._timeout_s)) from exc
            retryable = error.status == 429 or (error.status == 503 and retry_unavailable)
            if not retryable or attempt >= self._max_retries:
                raise error
            attempt += 1
            await asyncio.sleep(retry_delay(error.retry_after_s, attempt))


def retry_delay(retry_after_s: float | None, attempt: int) -> float:
    """The server's hint when it gave one, else exponential backoff; never very long."""
    wait = retry_after_s if retry_after_s is not None else 0.5 * 2 ** (attempt - 1)
    return max(0.0, min(wait, MAX_RETRY_WAIT_S))


def _base(url: str, service: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--{service} must be an http(s) URL, got {url!r}")
    return url


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
    return parts.scheme, netloc.removesuffix(default)


def _object(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise ApiError(
            200, "Unexpected answer", url="", detail=f"expected a JSON object, got {answer!r}"
        )
    return answer


async def _json_or_none(resp: aiohttp.ClientResponse) -> Any:
    if resp.status == 204:
        return None
    text = await resp.text()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ApiError(
            resp.status, "Unexpected answer", url=str(resp.url), detail=f"not JSON: {text[:200]!r}"
        ) from exc


async def _api_error(resp: aiohttp.ClientResponse) -> ApiError:
    text = await resp.text(errors="replace")
    body: Any = None
    if text:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    title = resp.reason or "Error"
    if not isinstance(body, dict):
        detail = text.strip()[:300] or None
        return ApiError(resp.status, title, str(resp.url), detail=detail, retry_after_s=retry_after)
    errors = [
        FieldError(str(e.get("field") or "body"), str(e.get("message") or "invalid"))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    kind = body.get("type")
    return ApiError(
        status=resp.status,
        title=str(body.get("title") or title),
        url=str(resp.url),
        detail=str(body["detail"]) if body.get("detail") else None,
        kind=str(kind).rstrip("/").rsplit("/", 1)[-1] if kind and kind != "about:blank" else None,
        errors=errors,
        retry_after_s=retry_after,
    )


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"unknown host {exc.host!r}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused (is it running?)"
        return exc.os_error.strerror or str(exc.os_error)
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return str(exc) or type(exc).__name__
