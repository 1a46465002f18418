"""Google Calendar: task ids, 409/410/412 handling, mirror, free/busy — on the fake Google."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("googleapiclient")

from nurture_google import GoogleConnector  # noqa: E402
from nurture_google.auth import CALENDAR_APP_CREATED, CALENDAR_FREEBUSY  # noqa: E402
from nurture_google.gcal import event_id, task_body  # noqa: E402

from nurture.connector import task_hash, task_uid  # noqa: E402
from nurture.errors import TaskConflict, TaskGone  # noqa: E402
from nurture.model import CalendarTask, Kind  # noqa: E402

from .conftest import make_connector  # noqa: E402
from .gfactories import foreign_event  # noqa: E402
from .gfake import Calendar, FakeGoogle  # noqa: E402

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WINDOW = (T0 - timedelta(days=7), T0 + timedelta(days=7))


def task(key: str = "reply:a@example.com", hour: int = 10, free: bool = True) -> CalendarTask:
    start = T0.replace(hour=hour)
    return CalendarTask(
        key=key,
        uid=task_uid(key),
        title="Reply to Dana",
        description="Dana asked for pricing.",
        start=start,
        end=start + timedelta(minutes=20),
        kind=Kind.REPLY,
        free=free,
        url="https://mail.google.com/mail/#all/t1",
    )


@pytest.fixture
def cache(tmp_path: Path, token_endpoint: Any) -> Path:
    return tmp_path / "cache"


def calendar(fake: FakeGoogle, cache: Path, **options: Any) -> Any:
    store = make_connector(fake, cache, **options).calendar()
    assert store is not None
    return store


def test_event_ids_are_valid_stable_base32hex() -> None:
    ids = {event_id(f"reply:{n}@example.com") for n in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[a-v0-9]{5,1024}", i) for i in ids)
    assert event_id("reply:1@example.com") == event_id("reply:1@example.com")


def test_task_event_is_private_free_with_a_popup_and_our_marker(
    fake: FakeGoogle, cache: Path
) -> None:
    store = calendar(fake, cache)
    store.create_task(task(free=True))
    store.create_task(task("reply:b@example.com", hour=14, free=False))
    events = fake.calendars["primary"].events
    free = events[event_id("reply:a@example.com")]
    busy = events[event_id("reply:b@example.com")]
    assert (free["transparency"], busy["transparency"]) == ("transparent", "opaque")
    assert free["visibility"] == "private"
    assert free["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 10}],
    }
    assert free["extendedProperties"]["private"] == {
        "nurtureKey": "reply:a@example.com",
        "nurtureDigest": task_hash(task()),
    }
    assert "https://mail.google.com/mail/#all/t1" in free["description"]


def test_task_records_carry_key_content_hash_and_etag(fake: FakeGoogle, cache: Path) -> None:
    record = calendar(fake, cache).create_task(task())
    stored = fake.calendars["primary"].events[event_id(task().key)]
    assert record.ref == f"{stored['id']} {stored['etag']}"
    assert (record.key, record.uid, record.content_hash) == (
        task().key,
        task().uid,
        task_hash(task()),
    )


def test_repeated_create_returns_the_existing_task(fake: FakeGoogle, cache: Path) -> None:
    store = calendar(fake, cache)
    first = store.create_task(task())
    again = calendar(fake, cache).create_task(task())
    assert again.ref == first.ref
    assert fake.calls["calendar.events.insert"] == 2 and fake.calls["calendar.events.get"] == 1
    assert len([r for r in store.tasks()]) == 1


def test_task_deleted_by_the_user_is_dismissed(fake: FakeGoogle, cache: Path) -> None:
    store = calendar(fake, cache)
    store.create_task(task())
    fake.cancel_event("primary", event_id(task().key))
    assert store.tasks() == []
    with pytest.raises(TaskGone):
        store.create_task(task())
    assert fake.calendars["primary"].events[event_id(task().key)]["status"] == "cancelled"


def test_update_is_conditional_on_the_etag(fake: FakeGoogle, cache: Path) -> None:
    store = calendar(fake, cache)
    record = store.create_task(task())
    moved = store.update_task(task(hour=15), record)
    assert moved.start.hour == 15 and moved.ref != record.ref
    with pytest.raises(TaskConflict):
        store.update_task(task(hour=16), record)  # stale etag
    patches = [q for m, q in fake.log if m == "calendar.events.patch"]
    assert len(patches) == 2


def test_update_of_a_task_the_user_deleted_is_refused(fake: FakeGoogle, cache: Path) -> None:
    store = calendar(fake, cache)
    record = store.create_task(task())
    fake.cancel_event("primary", event_id(task().key))
    with pytest.raises((TaskConflict, TaskGone)):
        store.update_task(task(hour=15), record)
    assert fake.calendars["primary"].events[event_id(task().key)]["status"] == "cancelled"


def test_events_are_meetings_not_tasks_with_declines_and_all_day(
    fake: FakeGoogle, cache: Path
) -> None:
    fake.store_event(
        "primary",
        foreign_event(
            "meet1", "Client call", T0, T0 + timedelta(hours=1), attendees=("dana@client.example",)
        ),
    )
    declined = foreign_event("meet2", "Skipped", T0, T0 + timedelta(hours=1))
    declined["attendees"] = [
        {"email": "me@example.org", "self": True, "responseStatus": "declined"}
    ]
    fake.store_event("primary", declined)
    fake.store_event("primary", foreign_event("day1", "Offsite", "2026-11-25", "2026-11-26"))
    store = calendar(fake, cache)
    store.create_task(task())
    found = {e.uid: e for e in store.events(*WINDOW)}
    assert set(found) == {"meet1@google.com", "meet2@google.com", "day1@google.com"}
    assert [a.email for a in found["meet1@google.com"].attendees] == ["dana@client.example"]
    assert found["meet1@google.com"].busy and not found["meet2@google.com"].busy
    assert found["day1@google.com"].all_day
    assert found["day1@google.com"].start == datetime(2026, 11, 25, tzinfo=UTC)


def test_no_change_read_is_one_events_list_and_survives_restart(
    fake: FakeGoogle, cache: Path
) -> None:
    fake.store_event("primary", foreign_event("meet1", "Call", T0, T0 + timedelta(hours=1)))
    first = make_connector(fake, cache, fresh_for=60.0).calendar()
    assert first is not None
    list(first.events(*WINDOW))
    first.tasks()
    assert fake.calls["calendar.events.list"] == 1
    fake.reset_counts()
    later = make_connector(fake, cache, fresh_for=60.0).calendar()
    assert later is not None
    assert [e.summary for e in later.events(*WINDOW)] == ["Call"]
    later.tasks()
    assert dict(fake.calls) == {"calendar.events.list": 1}
    (query,) = [q for _m, q in fake.log]
    assert "syncToken" in query and "timeMin" not in query


def test_expired_sync_token_means_a_full_resync(fake: FakeGoogle, cache: Path) -> None:
    store = calendar(fake, cache)
    store.create_task(task())
    list(store.events(*WINDOW))
    fake.store_event("primary", foreign_event("meet1", "Call", T0, T0 + timedelta(hours=1)))
    fake.expire_sync_tokens()
    fake.reset_counts()
    assert [e.summary for e in store.events(*WINDOW)] == ["Call"]
    assert [r.key for r in store.tasks()] == [task().key]
    queries = [q for m, q in fake.log if m == "calendar.events.list"]
    assert "syncToken" in queries[0] and "timeMin" in queries[1]


def test_window_outside_the_mirror_is_listed_directly(fake: FakeGoogle, cache: Path) -> None:
    far = T0 + timedelta(days=400)
    fake.store_event("primary", foreign_event("far1", "Far away", far, far + timedelta(hours=1)))
    store = calendar(fake, cache)
    assert list(store.events(*WINDOW)) == []
    assert [e.summary for e in store.events(far - timedelta(days=1), far + timedelta(days=1))] == [
        "Far away"
    ]


def test_other_calendars_are_read_as_free_busy(fake: FakeGoogle, cache: Path) -> None:
    fake.calendars["team@example.com"] = Calendar("team@example.com", "Team")
    fake.store_event(
        "team@example.com", foreign_event("offsite", "Offsite", T0, T0 + timedelta(hours=3))
    )
    store = calendar(fake, cache, read_calendars=["team@example.com", "nobody@example.com"])
    busy = [e for e in store.events(*WINDOW) if e.uid.startswith("busy:")]
    assert [(e.start, e.end, e.busy) for e in busy] == [(T0, T0 + timedelta(hours=3), True)]
    assert fake.calls["calendar.freebusy.query"] == 1


def test_dedicated_calendar_is_created_once_and_uses_narrow_scopes(
    fake: FakeGoogle, cache: Path
) -> None:
    fake.store_event("primary", foreign_event("meet1", "Call", T0, T0 + timedelta(hours=1)))
    connector: GoogleConnector = make_connector(fake, cache, calendar="nurture")
    assert set(connector.scopes()) == {
        "https://www.googleapis.com/auth/gmail.readonly",
        CALENDAR_APP_CREATED,
        CALENDAR_FREEBUSY,
    }
    store = connector.calendar()
    assert store is not None
    store.create_task(task())
    again = make_connector(fake, cache, calendar="nurture").calendar()
    assert again is not None
    assert [r.key for r in again.tasks()] == [task().key]
    assert fake.calls["calendar.calendars.insert"] == 1
    (created,) = [c for c in fake.calendars if c != "primary"]
    assert event_id(task().key) in fake.calendars[created].events
    assert event_id(task().key) not in fake.calendars["primary"].events
    busy = list(again.events(*WINDOW))
    assert [(e.start, e.summary) for e in busy] == [(T0, "busy")]
    assert fake.calls["calendar.events.list"] >= 1


def test_body_fields_follow_the_schema(fake: FakeGoogle) -> None:
    from .gdiscovery import discovery

    doc = discovery("calendar.v3")
    match = doc.match("POST", "/calendar/v3/calendars/primary/events")
    assert match is not None
    assert doc.validate(match, {}, task_body(task())) == []
    broken = {**task_body(task()), "transparancy": "transparent"}
    assert doc.validate(match, {}, broken) == [
        "calendar.events.insert body: unknown field 'transparancy'"
    ]


def test_one_store_per_connector_so_a_cycle_lists_events_once(
    fake: FakeGoogle, cache: Path
) -> None:
    connector = make_connector(fake, cache, fresh_for=60.0)
    assert connector.calendar() is connector.calendar()
    assert connector.mail() is connector.mail()
    store = connector.calendar()
    assert store is not None
    list(store.events(*WINDOW))
    connector.calendar().tasks()  # type: ignore[union-attr]
    assert fake.calls["calendar.events.list"] == 1
