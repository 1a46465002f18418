"""The local connector: Maildir or mbox in; a vdir folder or .ics file for the calendar.

It is nurture's embedded default and the reference connector: every other
connector passes the same contract suite this one does.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from nurture.connector import CalendarStore, Capability, Connector, MailSource, Option
from nurture.ical import zone_named

from .calendar import IcsFileCalendar, VdirCalendar
from .maildir import MaildirSource
from .mbox import MboxSource

__all__ = ["LocalConnector"]


class LocalConnector(Connector):
    """Mail from a Maildir or mbox; calendar in a vdir folder or a single .ics file."""

    name = "local"
    summary = "local Maildir/mbox and a vdir or .ics calendar (no server needed)"
    capabilities = frozenset({Capability.MAIL, Capability.CALENDAR, Capability.TODO})
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "maildir",
            "path of a Maildir (subfolders such as .Sent are read too)",
            type=Path,
            ask=True,
        ),
        Option("mbox", "path of an mbox file, or a folder of mbox files", type=Path, ask=True),
        Option(
            "calendar",
            "a vdir folder (one .ics per event, as khal/vdirsyncer use) or a single .ics file; "
            "busy time is read from it and tasks are written to it",
            type=Path,
            ask=True,
        ),
        Option(
            "read_calendars",
            "more vdir folders or .ics files read for busy time",
            type=list,
            default=[],
        ),
        Option(
            "sent_folders", "folder or mbox names that hold your sent mail", type=list, default=[]
        ),
        Option("timezone", "zone for floating times in the calendar (IANA name)", default=""),
        Option("read_only", "never write tasks to this calendar", type=bool, default=False),
    )

    def _path(self, key: str) -> Path | None:
        value = self.context.options.get(key)
        return Path(str(value)).expanduser() if value else None

    def mail(self) -> MailSource | None:
        sent = tuple(self.context.options.get("sent_folders", []))
        maildir = self._path("maildir")
        if maildir is not None:
            return MaildirSource(maildir, sent)
        mbox = self._path("mbox")
        if mbox is not None:
            return MboxSource([mbox], sent)
        return None

    def calendar(self) -> CalendarStore | None:
        path = self._path("calendar")
        if path is None:
            return None
        zone = zone_named(str(self.context.options.get("timezone", "")))
        read_only = bool(self.context.options.get("read_only", False))
        if path.suffix.lower() == ".ics" and not path.is_dir():
            return IcsFileCalendar(path, zone, read_only)
        return VdirCalendar(path, zone, read_only)
