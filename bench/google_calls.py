"""Google connector bench: API calls and quota units against the minimum the API allows.

Simulates, on the fake Google from the test suite (no network):

- a first sync of a 50,000-message Gmail mailbox: list pages, metadata for
  every message, full bodies for the candidates the NLP needs (one in ten
  here), and the first read of the calendar;
- a no-change incremental sync: mail changes, calendar events and tasks;
- a first sync of 5,000 messages while Gmail answers 429 ("too many
  concurrent requests") to every call beyond the 20th of a batch, to show
  that the adaptive batch size settles under the limit.

``paced_minutes`` is how long the first sync waits for quota at the client's
pace (200 units per second, under Gmail's 250 per user), on a simulated clock.

The minimum for the first sync is what the issue defines: one
``messages.list`` per 500 messages, one metadata ``messages.get`` per message,
one body ``messages.get`` per candidate (Gmail charges every call inside a
batch). A no-change sync needs one ``history.list`` and one ``events.list``.

Run alone: ``.venv/bin/python bench/google_calls.py [messages]``.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MESSAGES = 50_000
THROTTLED_MESSAGES = 5_000
CANDIDATE_EVERY = 10
UNITS = {"list": 5, "get": 5, "history": 2}


def _mailbox(fake: Any, count: int) -> None:
    """`count` small messages over the last 350 days, delivered straight into the fake."""
    from tests.google.gfake import StoredMessage

    start = fake.now - timedelta(days=350)
    step = timedelta(days=349) / count
    for n in range(count):
        when = start + step * n
        headers = [
            ("From", f"Contact {n % 700} <c{n % 700}@example.com>"),
            ("To", "me@example.org"),
            ("Subject", f"Message {n}"),
            ("Date", when.strftime("%a, %d %b %Y %H:%M:%S +0000")),
            ("Message-ID", f"<bench-{n}@example.com>"),
        ]
        raw = ("\r\n".join(f"{k}: {v}" for k, v in headers) + "\r\n\r\nHello?\r\n").encode()
        fake.history_id += 1
        message_id = f"{0x18C0000000000000 + n:016x}"
        fake.messages[message_id] = StoredMessage(
            message_id,
            message_id,
            {"INBOX"},
            raw,
            headers,
            int(when.timestamp() * 1000),
            fake.history_id,
        )


def run(messages: int = MESSAGES) -> dict[str, Any]:
    """Calls, round trips and Gmail quota units spent, beside the API minimum."""
    import requests_mock

    from tests.google.conftest import TOKEN_URI, make_connector
    from tests.google.gfake import FakeGoogle

    fake = FakeGoogle()
    fake.check_responses = False  # the tests check the fake's answers; here speed matters
    _mailbox(fake, messages)
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    for n in range(40):
        fake.store_event(
            "primary",
            {
                "id": f"bench{n:04d}",
                "summary": f"Meeting {n}",
                "start": {"dateTime": (start + timedelta(days=n)).isoformat()},
                "end": {"dateTime": (start + timedelta(days=n, hours=1)).isoformat()},
            },
        )
    since = fake.now - timedelta(days=365)
    window = (fake.now - timedelta(days=30), fake.now + timedelta(days=30))
    with tempfile.TemporaryDirectory() as cache, requests_mock.Mocker() as mock:
        mock.post(
            TOKEN_URI,
            json=lambda request, _c: {
                "access_token": fake.issue("1//refresh-token"),
                "expires_in": 3599,
                "token_type": "Bearer",
            },
        )
        waited = [0.0]  # simulated seconds: pacing sleeps advance a fake clock

        def wait(seconds: float) -> None:
            waited[0] += seconds

        connector = make_connector(fake, Path(cache), fresh_for=5.0)
        connector.caller.sleep = wait
        connector.caller.monotonic = lambda: waited[0]
        source, calendar = connector.mail(), connector.calendar()
        assert source is not None and calendar is not None

        cursor, seen, candidates = None, 0, []
        for batch in source.changes(None, since):
            cursor = batch.cursor
            seen += len(batch.messages)
            candidates += [m.id for i, m in enumerate(batch.messages) if i % CANDIDATE_EVERY == 0]
        bodies = sum(1 for _ in source.bodies(candidates))
        list(calendar.events(*window))
        calendar.tasks()
        first = _spent(fake)

        fake.reset_counts()
        connector.caller.usage.calls.clear()
        assert cursor is not None
        later = make_connector(fake, Path(cache), fresh_for=5.0)
        source, calendar = later.mail(), later.calendar()
        assert source is not None and calendar is not None
        changed = sum(len(b.messages) for b in source.changes(cursor, since))
        list(calendar.events(*window))
        calendar.tasks()
        incremental = _spent(fake)

    minimum_calls = math.ceil(messages / 500) + messages + len(candidates)
    minimum_units = (
        math.ceil(messages / 500) * UNITS["list"]
        + messages * UNITS["get"]
        + len(candidates) * UNITS["get"]
    )
    assert fake.violations == [], fake.violations[:5]
    return {
        "google.first_sync.messages": seen,
        "google.first_sync.bodies": bodies,
        "google.first_sync.gmail_calls": first["gmail_calls"],
        "google.first_sync.gmail_calls_minimum": minimum_calls,
        "google.first_sync.gmail_units": first["units"],
        "google.first_sync.gmail_units_minimum": minimum_units,
        "google.first_sync.units_over_minimum_pct": round(
            100 * (first["units"] - minimum_units) / minimum_units, 2
        ),
        "google.first_sync.http_round_trips": first["round_trips"],
        "google.first_sync.paced_minutes": round(waited[0] / 60, 1),
        "google.first_sync.calendar_calls": first["calendar_calls"],
        "google.no_change_sync.changed_messages": changed,
        "google.no_change_sync.calls": incremental["calls"],
        "google.no_change_sync.calls_minimum": {
            "gmail.users.history.list": 1,
            "calendar.events.list": 1,
        },
        "google.no_change_sync.gmail_units": incremental["units"],
        "google.no_change_sync.gmail_units_minimum": UNITS["history"],
        **throttled(min(messages, THROTTLED_MESSAGES)),
    }


def throttled(messages: int = THROTTLED_MESSAGES, concurrency: int = 20) -> dict[str, Any]:
    """A first sync (metadata only) when Gmail answers 429 beyond `concurrency` calls a batch."""
    import requests_mock

    from tests.google.conftest import TOKEN_URI, make_connector
    from tests.google.gfake import FakeGoogle

    fake = FakeGoogle()
    fake.check_responses = False
    fake.concurrency = concurrency
    _mailbox(fake, messages)
    with tempfile.TemporaryDirectory() as cache, requests_mock.Mocker() as mock:
        mock.post(
            TOKEN_URI,
            json=lambda request, _c: {
                "access_token": fake.issue("1//refresh-token"),
                "expires_in": 3599,
                "token_type": "Bearer",
            },
        )
        connector = make_connector(fake, Path(cache))
        connector.caller.pace = None
        source = connector.mail()
        assert source is not None
        seen = sum(len(b.messages) for b in source.changes(None, fake.now - timedelta(days=365)))
    minimum = math.ceil(messages / 500) + messages
    calls = sum(n for k, n in fake.calls.items() if k.startswith("gmail.users.messages"))
    return {
        "google.throttled_first_sync.messages": seen,
        "google.throttled_first_sync.concurrency_limit": concurrency,
        "google.throttled_first_sync.gmail_calls": calls,
        "google.throttled_first_sync.gmail_calls_minimum": minimum,
        "google.throttled_first_sync.calls_over_minimum_pct": round(
            100 * (calls - minimum) / minimum, 2
        ),
        "google.throttled_first_sync.http_round_trips": fake.round_trips,
    }


def _spent(fake: Any) -> dict[str, Any]:
    gmail = {k: v for k, v in fake.calls.items() if k.startswith("gmail.")}
    calendar = {k: v for k, v in fake.calls.items() if k.startswith("calendar.")}
    return {
        "calls": dict(fake.calls),
        "gmail_calls": sum(gmail.values()),
        "calendar_calls": sum(calendar.values()),
        "units": fake.units,
        "round_trips": fake.round_trips,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES), indent=2))
