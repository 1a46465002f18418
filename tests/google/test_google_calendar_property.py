"""Property: the calendar mirror never drifts from Google, whatever the user and nurture do.

Interleaves nurture's writes (create, update, delete), the user's edits in the
Google Calendar UI (move, delete, new meetings), sync-token expiry and restarts
(a new connector on the same cache). After every step, `tasks()` equals the
tasks on the calendar and `events()` the meetings in the window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("googleapiclient")

import requests_mock  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from nurture_google.gcal import KEY_PROPERTY  # noqa: E402

from nurture.connector import task_uid  # noqa: E402
from nurture.errors import TaskConflict, TaskGone  # noqa: E402
from nurture.model import CalendarTask, Kind, TaskRecord  # noqa: E402

from .conftest import REFRESH_TOKEN, TOKEN_URI, make_connector  # noqa: E402
from .gfactories import foreign_event  # noqa: E402
from .gfake import FakeGoogle  # noqa: E402

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
WINDOW = (T0 - timedelta(days=3), T0 + timedelta(days=20))
KEYS = [f"reply:k{n}@example.com" for n in range(2)]

step = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), st.integers(0, 8)),
    st.tuples(st.just("update"), st.integers(0, 1), st.integers(0, 8)),
    st.tuples(st.just("delete"), st.integers(0, 1)),
    st.tuples(st.just("user_move"), st.integers(0, 1), st.integers(0, 8)),
    st.tuples(st.just("user_delete"), st.integers(0, 1)),
    st.tuples(st.just("meeting"), st.integers(0, 8)),
    st.tuples(st.just("expire")),
    st.tuples(st.just("restart")),
)


def task(index: int, hour: int) -> CalendarTask:
    start = T0 + timedelta(days=index, hours=hour)
    return CalendarTask(
        key=KEYS[index],
        uid=task_uid(KEYS[index]),
        title=f"Task {index}",
        description="why",
        start=start,
        end=start + timedelta(minutes=20),
        kind=Kind.REPLY,
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=16))
def test_tasks_and_events_always_match_the_calendar(
    tmp_path_factory: Any, steps: list[tuple[Any, ...]]
) -> None:
    fake = FakeGoogle()
    cache: Path = tmp_path_factory.mktemp("cache")
    with requests_mock.Mocker() as mock:
        mock.post(
            TOKEN_URI,
            json=lambda _request, _context: {
                "access_token": fake.issue(REFRESH_TOKEN),
                "expires_in": 3599,
            },
        )
        run(fake, cache, steps)


def run(fake: FakeGoogle, cache: Path, steps: list[tuple[Any, ...]]) -> None:
    # Reads stay current for a minute; the user's edits happen "later". So our
    # own writes must show without a refresh, and the user's after one.
    clock = [0.0]

    def connect() -> Any:
        return make_connector(fake, cache, fresh_for=60.0, monotonic=lambda: clock[0])

    store = connect().calendar()
    records: dict[str, TaskRecord] = {}
    events = fake.calendars["primary"].events
    meetings = 0
    for action, *args in steps:
        assert store is not None
        if action in ("user_move", "user_delete", "meeting", "expire"):
            clock[0] += 120.0
        if action == "create":
            try:
                records[KEYS[args[0]]] = store.create_task(task(args[0], args[1]))
            except TaskGone:
                assert events[_id(fake, args[0])]["status"] == "cancelled"
        elif action == "update" and KEYS[args[0]] in records:
            try:
                records[KEYS[args[0]]] = store.update_task(
                    task(args[0], args[1]), records[KEYS[args[0]]]
                )
            except (TaskConflict, TaskGone):
                records.pop(KEYS[args[0]])  # the core re-reads tasks() and decides
        elif action == "delete" and KEYS[args[0]] in records:
            store.delete_task(records.pop(KEYS[args[0]]))
        elif action == "user_move" and _live(fake, args[0]):
            start = T0 + timedelta(days=5, hours=args[1])
            fake.move_event("primary", _id(fake, args[0]), start, start + timedelta(minutes=30))
        elif action == "user_delete" and _live(fake, args[0]):
            fake.cancel_event("primary", _id(fake, args[0]))
        elif action == "meeting":
            meetings += 1
            start = T0 + timedelta(hours=args[0])
            fake.store_event(
                "primary",
                foreign_event(f"meet{meetings:03d}", "Meeting", start, start + timedelta(hours=1)),
            )
        elif action == "expire":
            fake.expire_sync_tokens()
        elif action == "restart":
            store = connect().calendar()
        assert store is not None
        truth = {
            e["extendedProperties"]["private"][KEY_PROPERTY]: (e["start"]["dateTime"], e["etag"])
            for e in events.values()
            if e["status"] != "cancelled" and "extendedProperties" in e
        }
        seen = {
            r.key: (r.start.isoformat().replace("+00:00", "Z"), r.ref.split(" ", 1)[1])
            for r in store.tasks()
        }
        assert seen == truth
        busy = sorted(
            e["id"]
            for e in events.values()
            if e["status"] != "cancelled" and "extendedProperties" not in e
        )
        assert sorted(e.uid.removesuffix("@google.com") for e in store.events(*WINDOW)) == busy
    assert not fake.violations


def _id(fake: FakeGoogle, index: int) -> str:
    from nurture_google.gcal import event_id

    return event_id(KEYS[index])


def _live(fake: FakeGoogle, index: int) -> bool:
    event = fake.calendars["primary"].events.get(_id(fake, index))
    return event is not None and event["status"] != "cancelled"
