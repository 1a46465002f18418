"""Microsoft connectors bench: HTTP requests per sync against the protocol minimum.

Simulates, on the fake Graph and the fake EWS from the test suite (no network),
one mailbox of 3,000 received and 1,000 sent messages, a calendar with 40 single
events, 6 weekly series and 12 meetings with attendees, and 10 nurture tasks:

- a first sync: every message's metadata, one read of five weeks of busy time,
  the list of nurture's tasks;
- a no-change sync: the same three reads when nothing changed.

Protocol minimum, counted for the same work:

- Graph: per folder, one delta page per ``PAGE`` messages (at least one page,
  which carries the deltaLink); one calendarView delta page per ``PAGE``
  instances; one ``$batch`` per 20 series whose iCalUId the occurrences need;
  one page of tasks. A no-change sync is one request per delta plus one for
  the tasks. ``PAGE`` is the page size asked with ``Prefer: odata.maxpagesize``
  (200, an assumed server cap; Graph may return fewer per page).
- EWS: per folder, one SyncFolderItems per 512 changes (its maximum) and one
  GetItem per page for the fields SyncFolderItems cannot return (recipients,
  Internet headers); one FindItem CalendarView; one GetItem per 200 meetings for
  their attendees (FindItem cannot return them); one FindItem for the tasks. A
  no-change sync is one SyncFolderItems per folder and the two FindItems.

Token requests (MSAL refresh, about one an hour) are not counted; exchangelib
is given the server build so it does not probe the version.

Run alone: ``.venv/bin/python bench/microsoft_requests.py``.
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

INBOX = 3_000
SENT = 1_000
SINGLES = 40
SERIES = 6
MEETINGS = 12
TASKS = 10
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WINDOW = (NOW, NOW + timedelta(days=35))
SINCE = NOW - timedelta(days=365)
GRAPH_PAGE = 200
EWS_PAGE = 512


def _raw(n: int, folder: str) -> bytes:
    when = SINCE + timedelta(minutes=90 * n + (7 if folder == "sent" else 0))
    contact = f"Contact {n % 300} <c{n % 300}@example.com>"
    me = "Alex Morgan <alex@brightpath.example>"
    sender, to = (me, contact) if folder == "sent" else (contact, me)
    headers = [
        ("From", sender),
        ("To", to),
        ("Subject", f"Message {n}"),
        ("Date", when.strftime("%a, %d %b %Y %H:%M:%S +0000")),
        ("Message-ID", f"<bench-{folder}-{n}@example.com>"),
    ]
    return ("\n".join(f"{k}: {v}" for k, v in headers) + "\n\nCould you check?\n").encode()


def _calendar(add: Any) -> int:
    """Fill a calendar through `add(uid, summary, start, end, attendees, rrule)`; instances."""
    base = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    instances = 0
    for n in range(SINGLES):
        start = base + timedelta(days=n % 30, hours=n % 7)
        people = (f"c{n}@example.com",) if n < MEETINGS else ()
        add(f"single-{n}@example", f"Event {n}", start, start + timedelta(hours=1), people, None)
        instances += 1
    for n in range(SERIES):
        start = base + timedelta(days=n, hours=8)
        add(
            f"series-{n}@example",
            f"Weekly {n}",
            start,
            start + timedelta(minutes=30),
            (),
            "FREQ=WEEKLY;COUNT=10",
        )
        instances += 5  # five weeks of a ten-week series fall in the window
    return instances


def _tasks() -> list[Any]:
    from nurture.connector import task_uid
    from nurture.model import CalendarTask, Kind

    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    return [
        CalendarTask(
            key=f"reply:bench-{n}@example.com",
            uid=task_uid(f"reply:bench-{n}@example.com"),
            title=f"Reply to Contact {n}",
            description="They asked a question.",
            start=start + timedelta(days=n),
            end=start + timedelta(days=n, minutes=20),
            kind=Kind.REPLY,
        )
        for n in range(TASKS)
    ]


def _sync(connector: Any, cursor: str | None) -> tuple[str, int]:
    source, store = connector.mail(), connector.calendar()
    messages = 0
    for batch in source.changes(cursor, SINCE):
        messages += len(batch.messages)
        cursor = batch.cursor
    list(store.events(*WINDOW))
    store.tasks()
    assert cursor is not None
    return cursor, messages


def _row(used: int, minimum: int) -> dict[str, Any]:
    return {
        "requests": used,
        "minimum": minimum,
        "overhead_pct": round(100.0 * (used - minimum) / minimum, 1),
        "within_5pct": used <= minimum * 1.05,
    }


def graph() -> dict[str, Any]:
    from tests.graph.fake import FakeGraph
    from tests.graph.test_contract import graph_connector

    fake = FakeGraph()
    for n in range(INBOX):
        fake.add_message(_raw(n, "inbox"), "inbox")
    for n in range(SENT):
        fake.add_message(_raw(n, "sent"), "sentitems")
    instances = _calendar(fake.add_event)
    with tempfile.TemporaryDirectory() as tmp:
        setup = graph_connector(fake, Path(tmp) / "setup").calendar()
        for task in _tasks():
            setup.create_task(task)
        cache = Path(tmp) / "cache"
        before = len(fake.log)
        cursor, messages = _sync(graph_connector(fake, cache, page_size=GRAPH_PAGE), None)
        first = len(fake.log) - before
        before = len(fake.log)
        _sync(graph_connector(fake, cache, page_size=GRAPH_PAGE), cursor)
        again = len(fake.log) - before
    assert messages == INBOX + SENT, messages
    pages = sum(max(1, math.ceil(n / GRAPH_PAGE)) for n in (INBOX, SENT))
    minimum_first = (
        pages
        + max(1, math.ceil(instances / GRAPH_PAGE))
        + math.ceil(SERIES / 20)
        + max(1, math.ceil(TASKS / GRAPH_PAGE))
    )
    return {
        "first_sync": _row(first, minimum_first),
        "no_change_sync": _row(again, 2 + 1 + 1),
        "max_concurrent": fake.max_in_flight,
    }


def exchange() -> dict[str, Any]:
    import requests_mock

    from tests.exchange.fake import ENDPOINT, FakeEWS
    from tests.exchange.test_contract import exchange_connector

    fake = FakeEWS()
    for n in range(INBOX):
        fake.deliver(_raw(n, "inbox"), "inbox")
    for n in range(SENT):
        fake.deliver(_raw(n, "sent"), "sentitems")
    _calendar(fake.add_event)
    with tempfile.TemporaryDirectory() as tmp, requests_mock.Mocker() as mock:
        mock.post(ENDPOINT, text=fake.handle)
        setup = exchange_connector(Path(tmp) / "setup").calendar()
        for task in _tasks():
            setup.create_task(task)
        cache = Path(tmp) / "cache"
        before = len(fake.calls)
        cursor, messages = _sync(exchange_connector(cache, page_size=EWS_PAGE), None)
        first = len(fake.calls) - before
        before = len(fake.calls)
        _sync(exchange_connector(cache, page_size=EWS_PAGE), cursor)
        again = len(fake.calls) - before
    assert messages == INBOX + SENT, messages
    pages = sum(max(1, math.ceil(n / EWS_PAGE)) for n in (INBOX, SENT))
    fetches = sum(math.ceil(n / EWS_PAGE) for n in (INBOX, SENT))
    minimum_first = pages + fetches + 1 + (1 if MEETINGS else 0) + 1
    return {
        "first_sync": _row(first, minimum_first),
        "no_change_sync": _row(again, 2 + 1 + 1),
    }


def run() -> dict[str, Any]:
    """Requests per first sync and per no-change sync for each connector, with the minimum."""
    return {
        "scenario": {
            "received": INBOX,
            "sent": SENT,
            "calendar": f"{SINGLES} events ({MEETINGS} meetings), {SERIES} weekly series",
            "tasks": TASKS,
        },
        "microsoft": graph(),
        "exchange": exchange(),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
