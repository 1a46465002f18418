"""The Microsoft Graph connector against the shared contract suite, on the fake Graph."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("msal")
pytest.importorskip("httpx")

from nurture_graph import GraphConnector  # noqa: E402
from nurture_graph.mapi import CATEGORY, KEY_PROPERTY  # noqa: E402

from nurture.connector import Context, task_uid  # noqa: E402
from nurture.model import FolderRole  # noqa: E402
from tests.contract import CalendarStoreContract, MailSourceContract  # noqa: E402
from tests.graph.fake import FakeGraph, _dtz  # noqa: E402


class StaticTokens:
    """Stands in for MSAL: hands out the fake's current token, 'refreshes' on demand."""

    def __init__(self, fake: FakeGraph) -> None:
        self.fake = fake
        self.refreshes = 0

    def token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
        # Hands out a token the fake does not accept once that set is changed.
        return "access-1"


def graph_connector(fake: FakeGraph, cache: Path, **options: Any) -> GraphConnector:
    context = Context(account="work", options={"client_id": "cid", **options}, cache_dir=cache)
    return GraphConnector(
        context, tokens=StaticTokens(fake), transport=fake.transport(), sleep=lambda _s: None
    )


class GraphMailHarness:
    def __init__(self, fake: FakeGraph, cache: Path) -> None:
        self.fake = fake
        self.cache = cache

    def connector(self) -> GraphConnector:
        return graph_connector(self.fake, self.cache, page_size=2)

    def deliver(self, raw: bytes, role: FolderRole = FolderRole.INBOX) -> None:
        self.fake.add_message(raw, "sentitems" if role is FolderRole.SENT else "inbox")

    def remove(self, message_id: str) -> None:
        self.fake.remove_message(message_id)


class GraphCalendarHarness:
    def __init__(self, fake: FakeGraph, cache: Path) -> None:
        self.fake = fake
        self.cache = cache

    def connector(self) -> GraphConnector:
        return graph_connector(self.fake, self.cache, page_size=3)

    def add_foreign_event(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime,
        attendees: tuple[str, ...] = (),
        rrule: str | None = None,
        marker: str | None = None,
    ) -> None:
        eid = self.fake.add_event(uid, summary, start, end, attendees, rrule)
        if marker:  # an invitation that arrived with nurture's property and category
            stored = self.fake.events[eid]
            stored.data.update(
                isOrganizer=False,
                organizer={"emailAddress": {"name": "Mallory", "address": "mallory@else.example"}},
                categories=[CATEGORY],
            )
            stored.props[KEY_PROPERTY] = marker

    def _ours(self, eid: str) -> str | None:
        """The task UID of one of nurture's events (the store's own test), else None."""
        stored = self.fake.events[eid]
        key = next(
            (v for k, v in stored.props.items() if k.lower() == KEY_PROPERTY.lower()),
            None,
        )
        if not key or stored.data.get("isOrganizer") is False or stored.data.get("attendees"):
            return None
        return task_uid(key)

    def _find(self, uid: str) -> str:
        for eid, stored in self.fake.events.items():
            if stored.data["iCalUId"] == uid or self._ours(eid) == uid:
                return eid
        for tid, task in self.fake.todo_tasks.items():
            if any(task_uid(r.get("externalId", "")) == uid for r in task["linkedResources"]):
                return tid
        raise KeyError(uid)

    def foreign_digest(self) -> dict[str, str]:
        return {
            s.data["iCalUId"]: hashlib.sha256(
                json.dumps([s.data, s.props, s.rrule], sort_keys=True).encode()
            ).hexdigest()
            for eid, s in self.fake.events.items()
            if self._ours(eid) is None
        }

    def user_delete(self, uid: str) -> None:
        found = self._find(uid)
        if found in self.fake.todo_tasks:
            del self.fake.todo_tasks[found]
        else:
            del self.fake.events[found]

    def user_move(self, uid: str, start: datetime, end: datetime) -> None:
        found = self._find(uid)
        if found in self.fake.todo_tasks:
            self.fake.touch_todo(found, startDateTime=_dtz(start), dueDateTime=_dtz(end))
        else:
            self.fake.touch_event(found, start=start, end=end)

    def user_complete(self, uid: str) -> None:
        self.fake.touch_todo(self._find(uid), status="completed")

    def user_duplicate(self, uid: str) -> str:
        """Outlook's copy of an appointment: a new event with the same properties."""
        original = self.fake.events[self._find(uid)]
        eid = self.fake.add_event(f"copy-of-{uid}", "copy", datetime(2026, 1, 1, tzinfo=UTC),
                                  datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
        copy = self.fake.events[eid]
        copy.data.update({k: v for k, v in original.data.items()
                          if k not in ("id", "iCalUId", "changeKey", "@odata.etag")})  # fmt: skip
        copy.props = dict(original.props)
        return eid

    def exists(self, eid: str) -> bool:
        return eid in self.fake.events

    def add_broken_task(self, key: str) -> None:
        """A task of nurture's that lost its start (as an odd sync client can leave it)."""
        eid = self.fake.add_event(task_uid(key), "Reply to Dana — edited",
                                  datetime(2026, 11, 30, 10, tzinfo=UTC),
                                  datetime(2026, 11, 30, 11, tzinfo=UTC))  # fmt: skip
        stored = self.fake.events[eid]
        stored.data.update(start=None, categories=[CATEGORY])
        stored.props[KEY_PROPERTY] = key


@pytest.fixture
def fake() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
def mail_harness(fake: FakeGraph, tmp_path: Path) -> GraphMailHarness:
    return GraphMailHarness(fake, tmp_path / "cache")


@pytest.fixture
def calendar_harness(fake: FakeGraph, tmp_path: Path) -> GraphCalendarHarness:
    return GraphCalendarHarness(fake, tmp_path / "cache")


class TestGraphMail(MailSourceContract):
    pass


class TestGraphCalendar(CalendarStoreContract):
    pass


class GraphTodoHarness(GraphCalendarHarness):
    def connector(self) -> GraphConnector:
        return graph_connector(self.fake, self.cache, page_size=3, todo=True)


class TestGraphTodoCalendar(CalendarStoreContract):
    """The same store with Microsoft To Do output on: to-do tasks go to a To Do list."""

    @pytest.fixture
    def calendar_harness(self, fake: FakeGraph, tmp_path: Path) -> GraphTodoHarness:
        return GraphTodoHarness(fake, tmp_path / "cache")
