"""The connector contract suite: ONE set of tests every connector passes.

A backend's test module subclasses `MailSourceContract` and/or
`CalendarStoreContract` and provides a fixture that builds a *harness*: an
object that makes a connector for a test account and acts as the outside
world on the backend (a new message arrives; the user edits the calendar in
their own app). The tests here never know which backend they talk to.

Harness protocols::

    class MailHarness:                       # fixture "mail_harness"
        def connector(self) -> Connector
        def deliver(self, raw: bytes, role: FolderRole = FolderRole.INBOX) -> None
        def remove(self, message_id: str) -> None

    class CalendarHarness:                   # fixture "calendar_harness"
        def connector(self) -> Connector
        def add_foreign_event(self, uid, summary, start, end, attendees=(), rrule=None,
                              marker=None) -> None
            # marker: a suggestion key set on the event the way that provider lets it
            # arrive (an invitation, a copied property): the event is still not nurture's
        def foreign_digest(self) -> dict[str, str]   # every object that is not nurture's task
        def user_delete(self, uid: str) -> None
        def user_move(self, uid: str, start: datetime, end: datetime) -> None
        def user_complete(self, uid: str) -> None     # only when the store supports VTODO
        def user_duplicate(self, uid: str) -> str     # the copy's handle for `exists`
        def exists(self, handle: str) -> bool
        def add_broken_task(self, key: str) -> None  # ours by UID and marker, but unreadable
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from nurture.connector import CalendarStore, Connector, MailBatch, MailSource, task_hash, task_uid
from nurture.errors import TaskConflict, TaskGone
from nurture.model import CalendarTask, FolderRole, Kind, TaskStatus

UTC = UTC
SINCE = datetime(2020, 1, 1, tzinfo=UTC)


def make_message(
    *,
    message_id: str,
    subject: str = "Hello",
    sender: str = "Dana Lee <dana@client.example>",
    to: str = "Alex Morgan <alex@brightpath.example>",
    body: str = "Could you send me the figures by Friday?",
    date: datetime | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain RFC 5322 message for the contract tests."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id}>"
    msg["Date"] = format_datetime(date or datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return bytes(msg)


def drain(source: MailSource, cursor: str | None) -> tuple[list[MailBatch], str]:
    """Consume every batch; return them and the final cursor."""
    batches = list(source.changes(cursor, SINCE))
    assert batches, "changes() must yield at least one batch carrying a cursor"
    final = batches[-1].cursor
    assert isinstance(final, str) and final, "the last batch must carry a cursor"
    return batches, final


def by_message_id(batches: Iterable[MailBatch]) -> dict[str, Any]:
    return {m.message_id: m for b in batches for m in b.messages}


class MailSourceContract:
    """Every mail source: backfill, incremental changes, deletions, bodies."""

    @pytest.fixture
    def source(self, mail_harness: Any) -> Any:
        connector: Connector = mail_harness.connector()
        source = connector.mail()
        assert source is not None, "this connector offers no mail source"
        yield source
        connector.close()

    def test_backfill_returns_every_message_with_its_folder(
        self, mail_harness: Any, source: MailSource
    ) -> None:
        mail_harness.deliver(make_message(message_id="in-1@client.example"))
        mail_harness.deliver(
            make_message(
                message_id="out-1@brightpath.example",
                sender="Alex Morgan <alex@brightpath.example>",
                to="Dana Lee <dana@client.example>",
                subject="Re: Hello",
                in_reply_to="in-1@client.example",
                body="Yes, here they are.",
            ),
            FolderRole.SENT,
        )
        batches, _ = drain(source, None)
        found = by_message_id(batches)
        assert set(found) >= {"in-1@client.example", "out-1@brightpath.example"}
        inbound, outbound = found["in-1@client.example"], found["out-1@brightpath.example"]
        assert inbound.folder is FolderRole.INBOX
        assert outbound.folder is FolderRole.SENT
        assert inbound.sender.email == "dana@client.example"
        assert inbound.sender.name == "Dana Lee"
        assert [a.email for a in inbound.to] == ["alex@brightpath.example"]
        assert outbound.in_reply_to == "in-1@client.example"
        assert inbound.date == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
        assert inbound.date.tzinfo is not None
        assert inbound.subject == "Hello"

    def test_each_message_is_reported_once(self, mail_harness: Any, source: MailSource) -> None:
        for n in range(3):
            mail_harness.deliver(make_message(message_id=f"once-{n}@client.example"))
        batches, _ = drain(source, None)
        ids = [m.id for b in batches for m in b.messages]
        assert len(ids) == len(set(ids)) == 3

    def test_incremental_sync_returns_only_what_is_new(
        self, mail_harness: Any, source: MailSource
    ) -> None:
        mail_harness.deliver(make_message(message_id="old@client.example"))
        _, cursor = drain(source, None)
        batches, cursor2 = drain(source, cursor)
        assert by_message_id(batches) == {}, "a no-change sync must report nothing"
        mail_harness.deliver(make_message(message_id="new@client.example", subject="Another"))
        batches, _ = drain(source, cursor2)
        assert set(by_message_id(batches)) == {"new@client.example"}

    def test_removed_message_is_reported_deleted(
        self, mail_harness: Any, source: MailSource
    ) -> None:
        mail_harness.deliver(make_message(message_id="gone@client.example"))
        mail_harness.deliver(make_message(message_id="stays@client.example"))
        batches, cursor = drain(source, None)
        gone_id = by_message_id(batches)["gone@client.example"].id
        mail_harness.remove("gone@client.example")
        batches, _ = drain(source, cursor)
        deleted = {d for b in batches for d in b.deleted}
        assert gone_id in deleted
        assert "stays@client.example" not in by_message_id(batches)

    def test_ids_are_stable_across_instances(self, mail_harness: Any, source: MailSource) -> None:
        mail_harness.deliver(make_message(message_id="stable@client.example"))
        first = by_message_id(drain(source, None)[0])["stable@client.example"].id
        other = mail_harness.connector()
        try:
            source2 = other.mail()
            assert source2 is not None
            second = by_message_id(drain(source2, None)[0])["stable@client.example"].id
        finally:
            other.close()
        assert first == second

    def test_rule_headers_are_delivered(self, mail_harness: Any, source: MailSource) -> None:
        mail_harness.deliver(
            make_message(
                message_id="news@list.example",
                headers={
                    "List-Id": "Weekly <weekly.list.example>",
                    "Precedence": "bulk",
                },
            )
        )
        message = by_message_id(drain(source, None)[0])["news@list.example"]
        assert "weekly.list.example" in message.headers.get("list-id", "")
        assert message.headers.get("precedence", "").lower() == "bulk"

    def test_raw_utf8_headers_are_read_as_text(self, mail_harness: Any, source: MailSource) -> None:
        """RFC 6532: 8-bit UTF-8 header text, as modern clients send it, is not mangled."""
        raw = (
            "From: José Müller <jose@client.example>\r\n"
            "To: Alex Morgan <alex@brightpath.example>\r\n"
            "Subject: Réunion café — prix ?\r\n"
            "Message-ID: <utf8@client.example>\r\n"
            "Date: Mon, 02 Nov 2026 09:30:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            "Pourriez-vous m'envoyer le prix ?\r\n"
        ).encode()
        mail_harness.deliver(raw)
        message = by_message_id(drain(source, None)[0])["utf8@client.example"]
        assert message.subject == "Réunion café — prix ?"
        assert message.sender.name == "José Müller"

    def test_a_display_name_naming_another_address_is_not_shown(
        self, mail_harness: Any, source: MailSource
    ) -> None:
        mail_harness.deliver(
            make_message(
                message_id="disguise@evil.example",
                sender='"alex@brightpath.example" <mallory@evil.example>',
            )
        )
        message = by_message_id(drain(source, None)[0])["disguise@evil.example"]
        assert message.sender.email == "mallory@evil.example"
        assert "alex@brightpath.example" not in message.sender.name

    def test_bodies_are_fetched_for_the_ids_asked(
        self, mail_harness: Any, source: MailSource
    ) -> None:
        mail_harness.deliver(make_message(message_id="b1@client.example", body="Can we meet?"))
        mail_harness.deliver(make_message(message_id="b2@client.example", body="Other text"))
        found = by_message_id(drain(source, None)[0])
        wanted = found["b1@client.example"].id
        bodies = dict(source.bodies([wanted, "no-such-id"]))
        assert set(bodies) == {wanted}
        body = bodies[wanted]
        content = (
            (body.raw or b"").decode("utf-8", "replace") + (body.text or "") + (body.html or "")
        )
        assert "Can we meet?" in content


def sample_task(
    key: str = "reply:abc@client.example", hour: int = 10, todo: bool = False
) -> CalendarTask:
    start = datetime(2026, 11, 24, hour, 0, tzinfo=UTC)
    return CalendarTask(
        key=key,
        uid=task_uid(key),
        title='Reply to Dana Lee — "Q3 renewal pricing?"',
        description="Dana asked: Could you send me the figures by Friday?",
        start=start,
        end=start + timedelta(minutes=20),
        kind=Kind.REPLY,
        todo=todo,
    )


class CalendarStoreContract:
    """Every calendar store: reads busy time, owns its tasks and only those."""

    @pytest.fixture
    def store(self, calendar_harness: Any) -> Any:
        connector: Connector = calendar_harness.connector()
        store = connector.calendar()
        assert store is not None, "this connector offers no calendar"
        yield store
        connector.close()

    def test_events_expand_recurrence_and_exclude_tasks(
        self, calendar_harness: Any, store: CalendarStore
    ) -> None:
        start = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
        calendar_harness.add_foreign_event(
            "weekly@example",
            "Team sync",
            start,
            start + timedelta(hours=1),
            rrule="FREQ=WEEKLY;COUNT=4",
        )
        calendar_harness.add_foreign_event(
            "client@example",
            "Client call",
            start + timedelta(days=1),
            start + timedelta(days=1, hours=1),
            attendees=("dana@client.example",),
        )
        store.create_task(sample_task())
        events = list(store.events(start - timedelta(days=1), start + timedelta(days=30)))
        weekly = [e for e in events if e.uid == "weekly@example"]
        assert [e.start for e in weekly] == [start + timedelta(weeks=n) for n in range(4)]
        call = next(e for e in events if e.uid == "client@example")
        assert "dana@client.example" in {a.email for a in call.attendees}
        assert all(e.start.tzinfo is not None for e in events)
        assert task_uid("reply:abc@client.example") not in {e.uid for e in events}

    def test_created_task_reads_back(self, store: CalendarStore) -> None:
        task = sample_task()
        record = store.create_task(task)
        assert record.key == task.key and record.uid == task.uid
        listed = {r.key: r for r in store.tasks()}
        assert set(listed) == {task.key}
        back = listed[task.key]
        assert back.start == task.start and back.end == task.end
        assert back.status is TaskStatus.OPEN
        assert back.content_hash in ("", task_hash(task))

    def test_create_is_idempotent(self, store: CalendarStore) -> None:
        task = sample_task()
        store.create_task(task)
        store.create_task(task)
        assert [r.key for r in store.tasks()] == [task.key]

    def test_update_changes_the_task(self, store: CalendarStore) -> None:
        task = sample_task()
        record = store.create_task(task)
        moved = CalendarTask(
            key=task.key,
            uid=task.uid,
            title="Reply to Dana Lee — new title",
            description=task.description,
            start=task.start + timedelta(hours=2),
            end=task.end + timedelta(hours=2),
            kind=task.kind,
        )
        store.update_task(moved, record)
        (back,) = store.tasks()
        assert back.start == moved.start
        assert back.title in ("", moved.title)

    def test_delete_removes_and_tolerates_missing(self, store: CalendarStore) -> None:
        keep = store.create_task(sample_task("reply:keep@x", hour=9))
        gone = store.create_task(sample_task("reply:gone@x", hour=11))
        store.delete_task(gone)
        store.delete_task(gone)
        assert [r.key for r in store.tasks()] == [keep.key]

    def test_foreign_events_are_never_touched(
        self, calendar_harness: Any, store: CalendarStore
    ) -> None:
        start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        calendar_harness.add_foreign_event(
            "mine@example", "Dentist", start, start + timedelta(hours=1)
        )
        before = calendar_harness.foreign_digest()
        record = store.create_task(sample_task())
        store.update_task(sample_task(hour=15), record)
        for r in store.tasks():
            store.delete_task(r)
        assert calendar_harness.foreign_digest() == before
        assert "mine@example" in before

    def test_user_move_is_read_back(self, calendar_harness: Any, store: CalendarStore) -> None:
        task = sample_task()
        store.create_task(task)
        new_start = task.start + timedelta(days=2)
        calendar_harness.user_move(task.uid, new_start, new_start + timedelta(minutes=20))
        (back,) = store.tasks()
        assert back.start == new_start

    def test_stale_update_after_user_move_is_refused(
        self, calendar_harness: Any, store: CalendarStore
    ) -> None:
        task = sample_task()
        record = store.create_task(task)
        new_start = task.start + timedelta(days=2)
        calendar_harness.user_move(task.uid, new_start, new_start + timedelta(minutes=20))
        with pytest.raises(TaskConflict):
            store.update_task(sample_task(hour=16), record)
        (back,) = store.tasks()
        assert back.start == new_start

    def test_user_delete_is_read_back(self, calendar_harness: Any, store: CalendarStore) -> None:
        task = sample_task()
        store.create_task(task)
        calendar_harness.user_delete(task.uid)
        assert store.tasks() == []
        try:
            store.create_task(task)
        except TaskGone:
            return  # providers that remember deletions (Google) say so
        assert [r.key for r in store.tasks()] == [task.key]

    def test_user_completion_is_read_back(
        self, calendar_harness: Any, store: CalendarStore
    ) -> None:
        if not store.supports_todo:
            pytest.skip("this calendar store writes no VTODO")
        task = sample_task(todo=True)
        store.create_task(task)
        calendar_harness.user_complete(task.uid)
        (back,) = store.tasks()
        assert back.status is TaskStatus.COMPLETED

    def test_a_foreign_event_carrying_the_marker_is_busy_time_and_never_touched(
        self, calendar_harness: Any, store: CalendarStore
    ) -> None:
        task = sample_task()
        start = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
        calendar_harness.add_foreign_event(
            "invite@example",
            "Planning (their invitation)",
            start,
            start + timedelta(hours=1),
            attendees=("dana@client.example",),
            marker=task.key,
        )
        before = calendar_harness.foreign_digest()
        assert "invite@example" in before
        assert store.tasks() == []
        events = list(store.events(start - timedelta(days=1), start + timedelta(days=1)))
        assert [(e.start, e.busy) for e in events if e.uid == "invite@example"] == [(start, True)]
        record = store.create_task(task)
        assert [r.uid for r in store.tasks()] == [task.uid]
        store.update_task(sample_task(hour=15), record)
        for r in store.tasks():
            store.delete_task(r)
        assert store.tasks() == []
        assert calendar_harness.foreign_digest() == before

    def test_a_copy_of_a_task_is_never_merged_into_it(
        self, calendar_harness: Any, store: CalendarStore
    ) -> None:
        task = sample_task()
        record = store.create_task(task)
        copy = calendar_harness.user_duplicate(task.uid)
        listed = [r for r in store.tasks() if r.key == task.key]
        # The copy is the user's event, or a second object under the key that the
        # core reports and leaves alone; never one object standing for both.
        assert len(listed) in (1, 2)
        assert sum(r.ref == record.ref for r in listed) == 1
        store.delete_task(record)
        assert calendar_harness.exists(copy)

    def test_an_unreadable_task_is_reported_and_the_rest_is_read(
        self, calendar_harness: Any, store: CalendarStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        good = store.create_task(sample_task("reply:good@client.example"))
        assert [r.key for r in store.tasks()] == [good.key]
        calendar_harness.add_broken_task("reply:broken@client.example")
        with caplog.at_level(logging.WARNING):
            assert [r.key for r in store.tasks()] == [good.key]
            start = datetime(2026, 11, 1, tzinfo=UTC)
            list(store.events(start, start + timedelta(days=60)))
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any("skipped" in m for m in warned), warned
