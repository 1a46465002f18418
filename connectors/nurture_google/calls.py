"""Calling Google APIs politely: backoff, adaptive batches, quota accounting.

Terms:

- a **call** is one API method invocation (``gmail.users.messages.get``); it is
  what Google charges quota for, whether sent alone or inside a batch;
- a **round trip** is one HTTP request; a batch request carries many calls in
  one round trip (at most 50 here, as Google advises for Gmail);
- **units** are Gmail's per-call quota price (``messages.get`` 5,
  ``history.list`` 2); Calendar charges per call, so its calls cost 1 unit.

Throttling (HTTP 429, or 403 with reason ``rateLimitExceeded`` /
``userRateLimitExceeded``) and server errors are retried with exponential
delay and jitter, honouring ``Retry-After``. Inside batches the failed calls
are retried in a later, smaller batch: the size halves after a batch with
errors and grows by a few calls after three clean ones (additive increase, so
it settles just under Gmail's per-user concurrency limit instead of bouncing
off it). When the tries run out the caller gets `TransientError` with the delay.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httplib2
from googleapiclient.errors import HttpError

from nurture.errors import AuthError, TransientError

log = logging.getLogger(__name__)

# Gmail quota units per method (developers.google.com/gmail/api/reference/quota).
GMAIL_UNITS: Mapping[str, int] = {
    "gmail.users.getProfile": 1,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.history.list": 2,
    "gmail.users.labels.list": 1,
}

RETRYABLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
MAX_BATCH = 50


class Missing(Exception):
    """A call answered 404/410: the object is gone. Carries the status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def units(method_id: str) -> int:
    """The quota units one call of `method_id` costs (Calendar: 1 per call)."""
    return GMAIL_UNITS.get(method_id, 1)


def error_reason(error: HttpError) -> str:
    """The first ``reason`` in a Google error body, or ''."""
    try:
        body = json.loads(error.content or b"{}")
    except ValueError:
        return ""
    errors = body.get("error", {}).get("errors") or [{}]
    reason = errors[0].get("reason", "")
    if not reason:
        reason = body.get("error", {}).get("status", "")
    return str(reason)


def is_retryable(error: HttpError) -> bool:
    """Throttling or a server hiccup: worth another try later."""
    status = error.resp.status
    if status in (429, 500, 502, 503, 504):
        return True
    return status == 403 and error_reason(error) in RETRYABLE_REASONS


def refused(error: HttpError, command: str = "") -> AuthError | None:
    """The sign-in is not good enough (revoked, or a permission left unticked)."""
    if error.resp.status == 401:
        return AuthError("Google no longer accepts this account's sign-in", command)
    if error.resp.status == 403 and error_reason(error) in (
        "insufficientPermissions",
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
    ):
        return AuthError(
            "nurture lacks a Google permission it needs; sign in again and "
            "leave every box ticked",
            command,
        )
    return None


def retry_after(error: HttpError) -> float | None:
    """The server's Retry-After hint in seconds, if it gave one as a number."""
    value = error.resp.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(slots=True)
class Usage:
    """What this client spent: calls and units per method, and HTTP round trips."""

    calls: Counter[str] = field(default_factory=Counter)
    round_trips: int = 0

    def charge(self, method_id: str) -> None:
        self.calls[method_id] += 1

    @property
    def units(self) -> int:
        return sum(units(m) * n for m, n in self.calls.items())


@dataclass(slots=True)
class Caller:
    """Executes API requests with backoff, and batches with an adaptive size.

    Spending is paced with a token bucket (`pace` units per second, bursts up
    to `burst`), below Gmail's per-user limit of 250 units per second, so a
    long first sync slows down instead of running into 429 storms.
    `sleep`, `rng` and `monotonic` are injectable so tests run without waiting.
    """

    tries: int = 6
    base_delay: float = 1.0
    max_delay: float = 64.0
    max_batch: int = MAX_BATCH
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    usage: Usage = field(default_factory=Usage)
    batch_size: int = MAX_BATCH
    reauthorize: Callable[[], None] | None = None
    auth_command: str = ""
    grow_by: int = 5
    patience: int = 3
    _clean: int = 0
    pace: float | None = 200.0
    burst: float = 2500.0
    monotonic: Callable[[], float] = time.monotonic
    _allowance: float = 2500.0
    _checked: float | None = None

    def spend(self, cost: int) -> None:
        """Wait, if need be, until `cost` units fit the pace (token bucket)."""
        if self.pace is None:
            return
        now = self.monotonic()
        if self._checked is not None:
            elapsed = max(0.0, now - self._checked)
            self._allowance = min(self.burst, self._allowance + elapsed * self.pace)
        self._checked = now
        self._allowance -= cost
        if self._allowance < 0:
            wait = -self._allowance / self.pace
            self.sleep(wait)
            self._allowance = 0.0
            self._checked = now + wait

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Exponential backoff with jitter (half to all of the ceiling), at least the hint."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return max(hint or 0.0, ceiling * (0.5 + self.rng() / 2))

    def execute(self, request: Any) -> Any:
        """Run one request; retry throttling and server errors; 404/410 → `Missing`."""
        hint: float | None = None
        for attempt in range(self.tries):
            self.spend(units(request.methodId))
            self.usage.charge(request.methodId)
            self.usage.round_trips += 1
            try:
                return request.execute()
            except HttpError as error:
                if error.resp.status in (404, 410):
                    raise Missing(error.resp.status) from error
                if (denied := refused(error, self.auth_command)) is not None:
                    raise denied from error
                if not is_retryable(error):
                    raise
                hint = retry_after(error)
                log.info("%s throttled (%s), retrying", request.methodId, error.resp.status)
            except (TimeoutError, httplib2.HttpLib2Error, OSError) as error:
                log.info("%s failed in transit (%s), retrying", request.methodId, error)
            if attempt + 1 < self.tries:
                self.sleep(self.delay(attempt, hint))
        raise TransientError("Google keeps refusing or failing; trying again later", hint)

    def batch(
        self,
        service: Any,
        requests: Mapping[str, Callable[[], Any]],
    ) -> Iterator[tuple[str, Any]]:
        """Run many calls in batch requests; yield (key, result) as each chunk completes.

        `requests` maps a key to a factory building the request (a request
        cannot be reused in a second batch). A call answering 404/410 yields
        (key, `Missing`). Other client errors raise `HttpError`.
        """
        pending = list(requests)
        attempt = 0
        hint: float | None = None
        while pending:
            chunk, pending = pending[: self.batch_size], pending[self.batch_size :]
            outcome = _Outcome()
            batch = service.new_batch_http_request(callback=outcome.callback)
            cost = 0
            for key in chunk:
                request = requests[key]()
                self.usage.charge(request.methodId)
                cost += units(request.methodId)
                batch.add(request, request_id=key)
            self.usage.round_trips += 1
            self.spend(cost)
            try:
                batch.execute()
            except HttpError as error:
                if (denied := refused(error, self.auth_command)) is not None:
                    raise denied from error
                if not is_retryable(error):
                    raise
                outcome = _Outcome(failed=list(chunk), hint=retry_after(error))
            except (TimeoutError, httplib2.HttpLib2Error, OSError) as error:
                log.info("batch failed in transit (%s)", error)
                outcome = _Outcome(failed=list(chunk))
            if outcome.fatal:
                raise refused(outcome.fatal[0], self.auth_command) or outcome.fatal[0]
            if outcome.unauthorized and self.reauthorize is not None:
                self.reauthorize()
            yield from ((key, outcome.done[key]) for key in chunk if key in outcome.done)
            if outcome.failed:
                hint = outcome.hint
                self._clean = 0
                self.batch_size = max(1, len(chunk) // 2)
                attempt += 1
                if attempt >= self.tries:
                    raise TransientError(
                        f"Google throttled {len(outcome.failed)} calls repeatedly; "
                        "trying again later",
                        hint,
                    )
                log.info(
                    "%d of %d calls throttled; batch size now %d",
                    len(outcome.failed),
                    len(chunk),
                    self.batch_size,
                )
                self.sleep(self.delay(attempt - 1, hint))
                pending = outcome.failed + pending
            else:
                # Additive increase after a few clean rounds: doubling straight
                # back into Gmail's per-user concurrency limit would waste half
                # a batch every other round.
                self._clean += 1
                if self._clean >= self.patience:
                    self.batch_size = min(self.max_batch, self.batch_size + self.grow_by)
                    self._clean = 0
                attempt = 0


@dataclass(slots=True)
class _Outcome:
    """The per-call answers of one batch request, sorted by what to do next."""

    done: dict[str, Any] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    fatal: list[HttpError] = field(default_factory=list)
    hint: float | None = None
    unauthorized: bool = False

    def callback(self, key: str, response: Any, error: HttpError | None) -> None:
        if error is None:
            self.done[key] = response
        elif error.resp.status in (404, 410):
            self.done[key] = Missing(error.resp.status)
        elif is_retryable(error) or error.resp.status == 401:
            self.failed.append(key)
            self.unauthorized |= error.resp.status == 401
            self.hint = max(self.hint or 0.0, retry_after(error) or 0.0) or None
        else:
            self.fatal.append(error)
