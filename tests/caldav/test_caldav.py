"""The CalDAV connector against a real Radicale: discovery, incremental reads, faults."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nurture_caldav.store import CalDavStore

from nurture.connector import task_uid
from nurture.errors import AuthError, TaskConflict, TransientError, UserError
from nurture.model import TaskStatus
from tests.contract import sample_task
from tests.servers.radicale import RadicaleHarness, RadicaleServer

pytestmark = pytest.mark.server
UTC = UTC


@pytest.fixture
def harness(radicale: RadicaleServer, tmp_path: Path) -> RadicaleHarness:
    return RadicaleHarness(radicale, tmp_path)


def store_of(harness: RadicaleHarness, **options: object) -> CalDavStore:
    store = harness.connector(**options).calendar()
    assert isinstance(store, CalDavStore)
    return store


def test_refused_login_is_an_auth_error_naming_the_command(harness: RadicaleHarness) -> None:
    store = harness.connector(password="wrong").calendar()
    with pytest.raises(AuthError) as raised:
        store.tasks()
    assert raised.value.command == "nurture auth caldav test"
    assert "wrong" not in str(raised.value)


def test_server_down_is_transient_and_recovers(harness: RadicaleHarness) -> None:
    store = store_of(harness)
    store.create_task(sample_task())
    harness.server.stop()
    with pytest.raises(TransientError):
        store.tasks()
    harness.server.start()
    assert [r.key for r in store.tasks()] == [sample_task().key]


def test_unknown_calendar_names_the_ones_there(harness: RadicaleHarness) -> None:
    store = store_of(harness, calendar="Holidays")
    with pytest.raises(UserError) as raised:
        store.tasks()
    assert "'work'" in str(raised.value)


def test_busy_time_only_from_the_calendars_named(radicale: RadicaleServer, tmp_path: Path) -> None:
    harness = RadicaleHarness(radicale, tmp_path)
    other = RadicaleHarness.__new__(RadicaleHarness)
    other.server, other.cache_dir, other.calendar_name = radicale, tmp_path, "family"
    other.calendar_url = radicale.make_calendar("family")
    third_url = radicale.make_calendar("shared")
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    other.add_foreign_event("school@x", "School run", start, start + timedelta(hours=1))
    harness.add_foreign_event("standup@x", "Standup", start, start + timedelta(minutes=15))
    other.calendar_url = third_url
    other.add_foreign_event("shared@x", "Shared thing", start, start + timedelta(hours=1))
    store = store_of(harness, calendars=["family"])
    uids = {e.uid for e in store.events(start - timedelta(days=1), start + timedelta(days=1))}
    # the named calendar, and the calendar tasks go to; not the third one
    assert uids == {"school@x", "standup@x"}


def test_todo_falls_back_to_an_event_where_the_calendar_has_no_vtodo(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    harness = RadicaleHarness(radicale, tmp_path, calendar="events-only", components=("VEVENT",))
    store = store_of(harness)
    assert store.supports_todo is False
    store.create_task(sample_task(todo=True))
    (_url, raw) = harness.objects()[task_uid(sample_task().key)]
    assert b"BEGIN:VEVENT" in raw and b"BEGIN:VTODO" not in raw


def test_todo_is_written_where_supported_and_completion_read(harness: RadicaleHarness) -> None:
    store = store_of(harness)
    task = sample_task(todo=True)
    store.create_task(task)
    (_url, raw) = harness.objects()[task.uid]
    assert b"BEGIN:VTODO" in raw
    harness.user_complete(task.uid)
    (record,) = store.tasks()
    assert record.status is TaskStatus.COMPLETED


def test_reads_stay_right_without_sync_token_support(harness: RadicaleHarness) -> None:
    store = store_of(harness)
    store.tasks()
    assert store._target is not None and store._target.sync
    store._target = replace(store._target, sync=False)  # as on a server without RFC 6578
    task = sample_task()
    store.create_task(task)
    later = task.start + timedelta(days=1)
    harness.user_move(task.uid, later, later + timedelta(minutes=20))
    (record,) = store.tasks()
    assert record.start == later
    harness.user_delete(task.uid)
    assert store.tasks() == []


def test_a_forgotten_sync_token_starts_over(harness: RadicaleHarness) -> None:
    store = store_of(harness)
    store.create_task(sample_task())
    assert len(store.tasks()) == 1
    store._token = "http://radicale.org/ns/sync/not-a-token"
    store.create_task(sample_task("reply:second@x", hour=12))
    assert sorted(r.key for r in store.tasks()) == ["reply:abc@client.example", "reply:second@x"]


def test_incremental_reads_fetch_only_what_changed(harness: RadicaleHarness) -> None:
    store = store_of(harness)
    for n in range(5):
        store.create_task(sample_task(f"reply:{n}@x", hour=8 + n))
    assert len(store.tasks()) == 5
    fetched: list[int] = []
    original = store._dav.multiget

    def spy(url: str, hrefs: list[str]) -> object:
        fetched.append(len(hrefs))
        return original(url, hrefs)

    store._dav.multiget = spy  # type: ignore[method-assign]
    uid = task_uid("reply:3@x")
    moved = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    harness.user_move(uid, moved, moved + timedelta(minutes=20))
    records = {r.uid: r for r in store.tasks()}
    assert records[uid].start == moved
    assert fetched == [1], "only the object the user changed is fetched again"


def test_delete_after_user_edit_is_a_conflict(harness: RadicaleHarness) -> None:
    store = store_of(harness)
    record = store.create_task(sample_task())
    later = sample_task().start + timedelta(hours=3)
    harness.user_move(record.uid, later, later + timedelta(minutes=20))
    with pytest.raises(TaskConflict):
        store.delete_task(record)
    assert [r.start for r in store.tasks()] == [later]


def test_plain_http_to_a_remote_host_is_refused(
    harness: RadicaleHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nurture_caldav.connector as connector

    monkeypatch.setattr(connector, "is_loopback", lambda host: False)
    with pytest.raises(UserError, match='tls = "none"'):
        harness.connector().calendar().tasks()
    assert harness.connector(tls="none").calendar().tasks() == []


def test_foreign_objects_with_odd_content_are_skipped(harness: RadicaleHarness) -> None:
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    harness.add_foreign_event("allday@x", "Holiday", start, start + timedelta(days=1))
    store = store_of(harness)
    store.create_task(sample_task())
    assert [r.key for r in store.tasks()] == [sample_task().key]
    events = list(store.events(start - timedelta(days=1), start + timedelta(days=2)))
    assert [e.uid for e in events] == ["allday@x"]
