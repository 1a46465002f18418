"""The local connector against the shared contract suite: Maildir, mbox, vdir, .ics file."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from nurture_local import LocalConnector

from nurture.connector import MARKER, Connector, Context, task_uid
from nurture.ical import is_task
from nurture.model import FolderRole
from tests.contract import CalendarStoreContract, MailSourceContract

_counter = itertools.count()


def local(tmp_path: Path, **options: Any) -> Connector:
    return LocalConnector(Context(account="test", options=options, cache_dir=tmp_path / "cache"))


class MaildirHarness:
    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in (root, root / ".Sent"):
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True, exist_ok=True)

    def connector(self) -> Connector:
        return local(self.root.parent, maildir=str(self.root))

    def deliver(self, raw: bytes, role: FolderRole = FolderRole.INBOX) -> None:
        folder = self.root / ".Sent" if role is FolderRole.SENT else self.root
        name = f"1700000000.M{next(_counter)}P1.test"
        (folder / "tmp" / name).write_bytes(raw)
        (folder / "tmp" / name).rename(folder / "new" / name)

    def remove(self, message_id: str) -> None:
        for path in self.root.rglob("*"):
            if path.is_file() and f"<{message_id}>".encode() in path.read_bytes():
                path.unlink()


class MboxHarness:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for name in ("INBOX", "Sent"):
            (root / name).write_bytes(b"")

    def connector(self) -> Connector:
        return local(self.root.parent, mbox=str(self.root))

    def deliver(self, raw: bytes, role: FolderRole = FolderRole.INBOX) -> None:
        path = self.root / ("Sent" if role is FolderRole.SENT else "INBOX")
        with path.open("ab") as fh:
            fh.write(b"From someone@example Mon Nov  2 09:30:00 2026\n" + raw + b"\n")

    def remove(self, message_id: str) -> None:
        from nurture_local.mbox import split_mbox

        for path in self.root.iterdir():
            kept = [m for m in split_mbox(path.read_bytes()) if f"<{message_id}>".encode() not in m]
            path.write_bytes(
                b"".join(b"From x@example Mon Nov  2 09:30:00 2026\n" + m + b"\n" for m in kept)
            )


class CalendarHarness:
    """Acts as the user's calendar app (khal, Thunderbird) on a vdir or .ics file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def connector(self) -> Connector:
        return local(self.path.parent, calendar=str(self.path))

    def _objects(self) -> list[tuple[Path, icalendar.Calendar]]:
        files = sorted(self.path.glob("*.ics")) if self.path.is_dir() else [self.path]
        return [(p, icalendar.Calendar.from_ical(p.read_bytes())) for p in files if p.exists()]

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
        event = icalendar.Event()
        event.add("uid", uid)
        event.add("summary", summary)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("dtstamp", start)
        for a in attendees:
            event.add("attendee", f"mailto:{a}")
        if rrule:
            event.add("rrule", icalendar.vRecur.from_ical(rrule))
        if marker:  # an invitation whose sender put nurture's marker on it
            event.add("organizer", "mailto:mallory@elsewhere.example")
            event.add(MARKER, marker)
        self._add(uid, event)

    def _add(self, uid: str, event: icalendar.Component) -> None:
        if self.path.suffix == ".ics":
            data = (
                self.path.read_bytes()
                if self.path.exists()
                else (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n")
            )
            cut = data.rfind(b"END:VCALENDAR")
            self.path.write_bytes(data[:cut] + event.to_ical() + data[cut:])
        else:
            cal = icalendar.Calendar()
            cal.add("prodid", "-//test//EN")
            cal.add("version", "2.0")
            cal.add_component(event)
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / f"{uid}.ics").write_bytes(cal.to_ical())

    def foreign_digest(self) -> dict[str, str]:
        found = {}
        for _, cal in self._objects():
            for comp in cal.walk("VEVENT"):
                if not is_task(comp):
                    found[str(comp["uid"])] = hashlib.sha256(comp.to_ical()).hexdigest()
        return found

    def user_duplicate(self, uid: str) -> str:
        """Copy the event as a calendar app's "Duplicate" does: a new UID, every other property."""
        (original,) = [c for _, cal in self._objects() for c in cal.walk() if c.get("uid") == uid]
        copy = icalendar.Component.from_ical(original.to_ical())
        new_uid = f"copy-{next(_counter)}@calendar.app"
        copy["uid"] = icalendar.vText(new_uid)
        self._add(new_uid, copy)
        return new_uid

    def exists(self, uid: str) -> bool:
        return any(c.get("uid") == uid for _, cal in self._objects() for c in cal.walk())

    def add_broken_task(self, key: str) -> None:
        """A to-do of nurture's whose start date the user cleared in a task app."""
        event = icalendar.Todo()
        event.add("uid", task_uid(key))
        event.add("due", datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
        event.add("dtstamp", datetime(2026, 11, 2, 9, 0))
        event.add("summary", "Reply to Dana — edited")
        event.add(MARKER, key)
        self._add(task_uid(key), event)

    def _edit(self, uid: str, change: Any) -> None:
        for path, cal in self._objects():
            hit = False
            for comp in list(cal.subcomponents):
                if str(comp.get("uid")) == uid:
                    hit = True
                    if change is None:
                        cal.subcomponents.remove(comp)
                    else:
                        change(comp)
            if hit:
                if self.path.is_dir() and not cal.subcomponents:
                    path.unlink()
                else:
                    path.write_bytes(cal.to_ical())

    def user_delete(self, uid: str) -> None:
        self._edit(uid, None)

    def user_move(self, uid: str, start: datetime, end: datetime) -> None:
        def move(comp: Any) -> None:
            del comp["dtstart"]
            comp.add("dtstart", start)
            for name in ("dtend", "due"):
                if name in comp:
                    del comp[name]
                    comp.add(name, end)

        self._edit(uid, move)

    def user_complete(self, uid: str) -> None:
        def complete(comp: Any) -> None:
            comp["status"] = "COMPLETED"

        self._edit(uid, complete)


class TestMaildir(MailSourceContract):
    @pytest.fixture
    def mail_harness(self, tmp_path: Path) -> MaildirHarness:
        return MaildirHarness(tmp_path / "Mail")


class TestMbox(MailSourceContract):
    @pytest.fixture
    def mail_harness(self, tmp_path: Path) -> MboxHarness:
        return MboxHarness(tmp_path / "mbox")


class TestVdir(CalendarStoreContract):
    @pytest.fixture
    def calendar_harness(self, tmp_path: Path) -> CalendarHarness:
        (tmp_path / "calendar").mkdir()
        return CalendarHarness(tmp_path / "calendar")


class TestIcsFile(CalendarStoreContract):
    @pytest.fixture
    def calendar_harness(self, tmp_path: Path) -> CalendarHarness:
        return CalendarHarness(tmp_path / "calendar.ics")
