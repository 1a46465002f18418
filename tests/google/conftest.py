"""Fixtures for the Google connector: the fake Google, its token endpoint, a connector."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("googleapiclient")
pytest.importorskip("google_auth_oauthlib")

from nurture_google import GoogleConnector  # noqa: E402
from nurture_google.calls import Caller  # noqa: E402

from nurture.connector import Context  # noqa: E402

from .gfake import FakeGoogle  # noqa: E402

TOKEN_URI = "https://oauth2.googleapis.com/token"
REFRESH_TOKEN = "1//refresh-token"
CLIENT_ID = "1234-abc.apps.googleusercontent.com"


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    """The fake Google; any request that breaks the discovery schema fails the test."""
    google = FakeGoogle()
    yield google
    assert not google.violations, "requests broke the API schema:\n" + "\n".join(google.violations)


@pytest.fixture
def token_endpoint(fake: FakeGoogle, requests_mock: Any) -> Any:
    """Google's OAuth token endpoint, answering from the fake's grants."""

    def answer(request: Any, context: Any) -> dict[str, Any]:
        form = urllib.parse.parse_qs(request.text)
        if form.get("grant_type") != ["refresh_token"] or form.get("client_id") != [CLIENT_ID]:
            context.status_code = 401
            return {"error": "invalid_client"}
        granted = fake.refresh_tokens.get(form["refresh_token"][0], set())
        asked = set(form.get("scope", [""])[0].split())
        if granted and not asked <= granted:
            context.status_code = 400
            return {"error": "invalid_scope", "error_description": "Bad Request"}
        token = fake.issue(form["refresh_token"][0])
        if token is None:
            context.status_code = 400
            return {
                "error": "invalid_grant",
                "error_description": "Token has been expired or " "revoked.",
            }
        return {
            "access_token": token,
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": " ".join(sorted(fake.refresh_tokens[form["refresh_token"][0]])),
        }

    return requests_mock.post(TOKEN_URI, json=answer)


class Sleeps(list[float]):
    """Records the backoff delays instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_connector(
    fake: FakeGoogle,
    cache: Path,
    sleeps: Sleeps | None = None,
    fresh_for: float = 0.0,
    monotonic: Callable[[], float] = time.monotonic,
    secrets: dict[str, str] | None = None,
    **options: Any,
) -> GoogleConnector:
    """A connector on the fake, signed in with the fake's grant for its scopes."""
    stored = {"refresh_token": REFRESH_TOKEN, "client_secret": "shh", **(secrets or {})}
    context = Context(
        account="personal",
        options={"client_id": CLIENT_ID, **options},
        cache_dir=cache,
        secret=stored.get,
        store_secret=stored.__setitem__,
    )
    connector = GoogleConnector(
        context,
        http=fake,
        caller=Caller(sleep=sleeps if sleeps is not None else Sleeps(), rng=lambda: 0.5),
        clock=lambda: fake.now,
        fresh_for=fresh_for,
        monotonic=monotonic,
    )
    if stored["refresh_token"] not in fake.refresh_tokens:
        fake.grant(stored["refresh_token"], connector.scopes())
    return connector


@pytest.fixture
def connector(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path, sleeps: Sleeps
) -> Iterator[GoogleConnector]:
    built = make_connector(fake, tmp_path / "cache", sleeps)
    yield built
    built.close()


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
