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

    def _event_id(self, uid: str) -> str:
        for key, event in self._events.items():
            private = event.get("extendedProperties", {}).get("private", {})
            if KEY_PROPERTY in private and task_uid(private[KEY_PROPERTY]) == uid:
                return key
            if event.get("iCalUID") == uid:
                return key
        raise KeyError(uid)

    def add_foreign_event(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime,
        attendees: tuple[str, ...] = (),
        rrule: str | None = None,
    ) -> None:
        event = foreign_event(event_id(uid), summary, start, end, attendees)
        event["iCalUID"] = uid
        self.fake.store_event("primary", event, rrule=f"RRULE:{rrule}" if rrule else None)

    def foreign_digest(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for event in self._events.values():
            if KEY_PROPERTY in event.get("extendedProperties", {}).get("private", {}):
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
