"""The local connector against the shared contract suite: Maildir, mbox, vdir, .ics file."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from nurture_local import LocalConnector

from nurture.connector import MARKER, Connector, Context
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
        if self.path.suffix == ".ics":
            text = (
                self.path.read_text()
                if self.path.exists()
                else ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n")
            )
            cut = text.rfind("END:VCALENDAR")
            self.path.write_text(text[:cut] + event.to_ical().decode() + text[cut:])
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
                if MARKER not in comp:
                    found[str(comp["uid"])] = hashlib.sha256(comp.to_ical()).hexdigest()
        return found

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
