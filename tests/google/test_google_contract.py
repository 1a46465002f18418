"""The Google connector against the shared contract suite, on the fake Google."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("googleapiclient")

from nurture_google import GoogleConnector  # noqa: E402
from nurture_google.gcal import KEY_PROPERTY, event_id  # noqa: E402

from nurture.connector import task_uid  # noqa: E402
from nurture.model import FolderRole  # noqa: E402
from tests.contract import CalendarStoreContract, MailSourceContract  # noqa: E402

from .conftest import make_connector  # noqa: E402
from .gfactories import foreign_event  # noqa: E402
from .gfake import FakeGoogle  # noqa: E402

LABELS = {
    FolderRole.INBOX: {"INBOX", "UNREAD"},
    FolderRole.SENT: {"SENT"},
    FolderRole.JUNK: {"SPAM"},
    FolderRole.TRASH: {"TRASH"},
    FolderRole.ARCHIVE: set(),
    FolderRole.OTHER: {"Label_7"},
}


class GoogleMailHarness:
    def __init__(self, fake: FakeGoogle, cache: Path) -> None:
        self.fake = fake
        self.cache = cache

    def connector(self) -> GoogleConnector:
        return make_connector(self.fake, self.cache)

    def deliver(self, raw: bytes, role: FolderRole = FolderRole.INBOX) -> None:
        self.fake.deliver(raw, set(LABELS[role]))

    def remove(self, message_id: str) -> None:
        for stored in list(self.fake.messages.values()):
            if dict((k.lower(), v) for k, v in stored.headers).get("message-id") == (
                f"<{message_id}>"
            ):
                self.fake.delete(stored.id)


class GoogleCalendarHarness:
    """Acts as the user in the Google Calendar UI, on the fake's primary calendar."""

    def __init__(self, fake: FakeGoogle, cache: Path) -> None:
        self.fake = fake
        self.cache = cache

    def connector(self) -> GoogleConnector:
        return make_connector(self.fake, self.cache, fresh_for=0.0)

    @property
    def _events(self) -> dict[str, dict[str, Any]]:
        return self.fake.calendars["primary"].events

    @staticmethod
    def _task_key(event: dict[str, Any]) -> str | None:
        """The key of one of nurture's tasks (its key AND the id made from it), else None."""
        key = event.get("extendedProperties", {}).get("private", {}).get(KEY_PROPERTY)
        return key if key and event["id"] == event_id(key) else None

    def _event_id(self, uid: str) -> str:
        for ident, event in self._events.items():
            key = self._task_key(event)
            if key and task_uid(key) == uid:
                return ident
            if event.get("iCalUID") == uid:
                return ident
        raise KeyError(uid)

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
        event = foreign_event(event_id(uid), summary, start, end, attendees)
        event["iCalUID"] = uid
        if marker:  # nurture's private property set on the user's own copy of an invitation
            event["organizer"] = {"email": "mallory@elsewhere.example"}
            event["extendedProperties"] = {"private": {KEY_PROPERTY: marker}}
        self.fake.store_event("primary", event, rrule=f"RRULE:{rrule}" if rrule else None)

    def foreign_digest(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for event in self._events.values():
            if self._task_key(event):
                continue
            text = json.dumps(event, sort_keys=True)
            uid = event["iCalUID"]
            found[uid] = hashlib.sha256((found.get(uid, "") + text).encode()).hexdigest()
        return found

    def user_delete(self, uid: str) -> None:
        self.fake.cancel_event("primary", self._event_id(uid))

    def user_move(self, uid: str, start: datetime, end: datetime) -> None:
        self.fake.move_event("primary", self._event_id(uid), start, end)

    def user_complete(self, uid: str) -> None:
        raise NotImplementedError("Google Calendar events have no completion")

    def user_duplicate(self, uid: str) -> str:
        """Google's "Duplicate": a new event (new id and iCalUID) with the same properties."""
        original = self._events[self._event_id(uid)]
        copy = {k: v for k, v in json.loads(json.dumps(original)).items() if k != "iCalUID"}
        copy["id"] = event_id(f"copy of {uid}")
        self.fake.store_event("primary", copy)
        return str(copy["id"])

    def exists(self, ident: str) -> bool:
        event = self._events.get(ident)
        return event is not None and event.get("status") != "cancelled"

    def add_broken_task(self, key: str) -> None:
        """A task of nurture's whose start has no time in it (schema-valid, unreadable)."""
        event = foreign_event(event_id(key), "Reply to Dana — edited", "2026-11-30T10:00:00Z",
                              "2026-11-30T10:20:00Z")  # fmt: skip
        event["start"] = {"timeZone": "Europe/Berlin"}  # neither date nor dateTime
        event["extendedProperties"] = {"private": {KEY_PROPERTY: key}}
        self.fake.store_event("primary", event)


@pytest.fixture
def mail_harness(fake: FakeGoogle, token_endpoint: Any, tmp_path: Path) -> GoogleMailHarness:
    return GoogleMailHarness(fake, tmp_path / "cache")


@pytest.fixture
def calendar_harness(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path
) -> GoogleCalendarHarness:
    return GoogleCalendarHarness(fake, tmp_path / "cache")


class TestGoogleMail(MailSourceContract):
    pass


class TestGoogleCalendar(CalendarStoreContract):
    pass
