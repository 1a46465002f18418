"""A small Microsoft Graph client: httpx, a bearer token, throttling, 4 at a time.

Graph throttles per app and mailbox (10,000 requests per 10 minutes, at most
4 concurrent requests). This client keeps to 4 with a semaphore, honours
``Retry-After`` on 429/503/504 for short waits and hands long ones to the core
as `TransientError(retry_after)`, refreshes the token once on a 401, and
counts its requests so the bench can compare them with the protocol minimum.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import httpx

from nurture.errors import AuthError, ConnectorError, TransientError

log = logging.getLogger(__name__)

GRAPH = "https://graph.microsoft.com/v1.0"
MAX_CONCURRENT = 4
# Waits up to this long are slept through here; longer ones go back to the core.
MAX_INLINE_WAIT = 30.0
_RETRY_STATUS = frozenset({429, 502, 503, 504})


class Tokens(Protocol):
    def token(self, *, force_refresh: bool = False) -> str: ...


class NotFound(Exception):
    """The resource does not exist (404), or no longer (410 outside delta)."""


class Gone(Exception):
    """A delta or skip token the server no longer accepts (410)."""


class PreconditionFailed(Exception):
    """An If-Match precondition failed (412): the item changed since we read it."""


def retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


class GraphClient:
    """Authenticated JSON requests against Graph, with retries and a request count."""

    def __init__(
        self,
        tokens: Tokens,
        *,
        command: str = "",
        base_url: str = GRAPH,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60.0,
    ) -> None:
        self._tokens = tokens
        self._command = command
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(transport=transport, timeout=timeout)
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self._max_retries = max_retries
        self._sleep = sleep
        self.requests = 0

    def close(self) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.base_url}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request, retried on throttling and network errors; errors mapped.

        Returns the response for 2xx; raises `NotFound`, `Gone`,
        `PreconditionFailed`, `AuthError` or `TransientError` otherwise.
        """
        refreshed = False
        attempt = 0
        while True:
            token = self._tokens.token(force_refresh=False)
            sent = {"Authorization": f"Bearer {token}", **(headers or {})}
            try:
                with self._slots:
                    self.requests += 1
                    response = self._http.request(
                        method, self.url(path), params=params, json=json, headers=sent
                    )
            except httpx.TransportError as exc:
                attempt += 1
                if attempt > self._max_retries:
                    raise TransientError(f"Microsoft Graph unreachable: {exc}") from exc
                self._sleep(min(2.0**attempt, MAX_INLINE_WAIT))
                continue
            status = response.status_code
            if status < 300:
                return response
            if status == 401 and not refreshed:
                # An access token can be revoked before it expires: refresh once.
                refreshed = True
                self._tokens.token(force_refresh=True)
                continue
            if status == 401:
                raise AuthError("Microsoft Graph refused the sign-in", self._command)
            if status == 403:
                raise AuthError(
                    f"Microsoft Graph denied access ({error_code(response)}); "
                    "the app may lack a permission",
                    self._command,
                )
            if status == 404:
                raise NotFound(path)
            if status == 410:
                raise Gone(path)
            if status == 412 or (status == 409 and "If-Match" in sent):
                # Outlook answers a stale If-Match with 412, some paths with 409 Conflict.
                raise PreconditionFailed(path)
            if status in _RETRY_STATUS:
                attempt += 1
                wait = retry_after(response, min(2.0**attempt, MAX_INLINE_WAIT))
                if attempt > self._max_retries or wait > MAX_INLINE_WAIT:
                    raise TransientError(f"Microsoft Graph throttled us ({status})", wait)
                log.info("Graph answered %s; retrying in %.1fs", status, wait)
                self._sleep(wait)
                continue
            if status >= 500:
                raise TransientError(f"Microsoft Graph failed ({status} {error_code(response)})")
            raise GraphError(
                f"Microsoft Graph refused {method} ({status} {error_code(response)})", status
            )

    def get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", path, **kwargs).json()
        return result

    def pages(
        self, path: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str]
    ) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following ``@odata.nextLink``."""
        page = self.get(path, params=params, headers=headers)
        yield page
        while "@odata.nextLink" in page:
            page = self.get(page["@odata.nextLink"], headers=headers)
            yield page

    def batch(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Run up to 20 requests as one JSON ``$batch``; responses by request id.

        Sub-requests throttled inside the batch are retried in a smaller batch.
        """
        results: dict[str, dict[str, Any]] = {}
        pending = requests
        attempt = 0
        while pending:
            body = self.request("POST", "/$batch", json={"requests": pending}).json()
            retry = []
            wait = 0.0
            by_id = {r["id"]: r for r in pending}
            for item in body.get("responses", []):
                if item.get("status") in _RETRY_STATUS:
                    retry.append(by_id[item["id"]])
                    wait = max(wait, float((item.get("headers") or {}).get("Retry-After", 1)))
                else:
                    results[item["id"]] = item
            if not retry:
                break
            attempt += 1
            if attempt > self._max_retries or wait > MAX_INLINE_WAIT:
                raise TransientError("Microsoft Graph throttled a batch", wait)
            self._sleep(wait)
            pending = retry
        return results


class GraphError(ConnectorError):
    """Graph refused a request for a reason no retry fixes (a bug or bad input)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""
