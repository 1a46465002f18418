"""A local calendar: a vdir folder (one .ics per item, as khal and vdirsyncer
use it) or a single .ics file. Busy time and meetings are read from it; nurture
writes its tasks into it.

Only objects carrying nurture's marker are ever rewritten or deleted. In a
single .ics file, every other component is kept byte for byte: the file is
split into its top-level blocks as text and only nurture's blocks change.
Writes are atomic (temporary file + rename), and a task is only rewritten if
it is unchanged since it was read (its content hash is the etag).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path

import icalendar

from nurture.connector import MARKER, CalendarStore, task_digest
from nurture.errors import TaskConflict
from nurture.ical import expand_events, record_from_component, task_calendar, task_component
from nurture.model import UTC, CalendarEvent, CalendarTask, TaskRecord

log = logging.getLogger(__name__)

_BLOCK = re.compile(
    r"^BEGIN:(VEVENT|VTODO|VJOURNAL|VFREEBUSY|VTIMEZONE)\r?\n.*?^END:\1\r?\n?",
    re.M | re.S,
)


def _etag(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nurture-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_calendar(data: bytes, where: str) -> icalendar.Calendar | None:
    """Parse one .ics; a broken file is reported (file and reason) and skipped."""
    try:
        return icalendar.Calendar.from_ical(data)
    except Exception as exc:
        log.warning("%s: not a valid iCalendar file (%s); skipped — fix or remove it", where, exc)
        return None


class VdirCalendar(CalendarStore):
    """A vdir: nurture's tasks are files named after their UID."""

    supports_todo = True

    def __init__(self, path: Path, zone: tzinfo, read_only: bool = False) -> None:
        self.path = path
        self.zone = zone
        self.read_only = read_only

    def _files(self) -> list[Path]:
        try:
            return sorted(p for p in self.path.iterdir() if p.suffix == ".ics")
        except FileNotFoundError:
            return []

    def _read(self) -> Iterator[tuple[Path, bytes, icalendar.Calendar]]:
        for path in self._files():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            cal = parse_calendar(data, str(path))
            if cal is not None:
                yield path, data, cal

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        for path, data, cal in self._read():
            if MARKER.encode() in data and _only_tasks(cal):
                continue
            try:
                yield from expand_events(cal, start, end, self.zone)
            except Exception as exc:
                log.warning("%s: cannot expand this event (%s); skipped", path, exc)

    def tasks(self) -> list[TaskRecord]:
        records = []
        for path, data, cal in self._read():
            if MARKER.encode() not in data:
                continue
            for comp in cal.walk():
                if comp.name in ("VEVENT", "VTODO") and MARKER in comp:
                    try:
                        records.append(
                            record_from_component(comp, f"{path.name}\t{_etag(data)}", self.zone)
                        )
                    except (KeyError, ValueError) as exc:
                        log.warning("%s: unreadable nurture task (%s); left alone", path, exc)
        return records

    def _path_for(self, uid: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", uid)
        return self.path / f"{safe}.ics"

    def _create(self, task: CalendarTask) -> TaskRecord:
        self.path.mkdir(parents=True, exist_ok=True)
        path = self._path_for(task.uid)
        data = task_calendar(task, task_digest(task), datetime.now(UTC))
        atomic_write(path, data)
        return self._record(path, data)

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        name, _, etag = record.ref.partition("\t")
        path = self.path / name
        try:
            current = path.read_bytes()
        except FileNotFoundError as exc:
            raise TaskConflict(f"{path} was deleted since it was read") from exc
        if _etag(current) != etag:
            raise TaskConflict(f"{path} changed since it was read")
        data = task_calendar(task, task_digest(task), datetime.now(UTC))
        atomic_write(path, data)
        return self._record(path, data)

    def _delete(self, record: TaskRecord) -> None:
        name, _, etag = record.ref.partition("\t")
        path = self.path / (name or self._path_for(record.uid).name)
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            return
        if etag and _etag(current) != etag:
            raise TaskConflict(f"{path} changed since it was read")
        path.unlink(missing_ok=True)

    def _record(self, path: Path, data: bytes) -> TaskRecord:
        cal = icalendar.Calendar.from_ical(data)
        comp = next(c for c in cal.walk() if MARKER in c)
        return record_from_component(comp, f"{path.name}\t{_etag(data)}", self.zone)


def _only_tasks(cal: icalendar.Calendar) -> bool:
    return all(MARKER in c for c in cal.walk() if c.name in ("VEVENT", "VTODO"))


class IcsFileCalendar(CalendarStore):
    """A single .ics file: nurture's blocks are rewritten, everything else kept as is."""

    supports_todo = True

    def __init__(self, path: Path, zone: tzinfo, read_only: bool = False) -> None:
        self.path = path
        self.zone = zone
        self.read_only = read_only

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _text(self) -> str:
        try:
            return self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        text = self._text()
        if not text:
            return
        cal = parse_calendar(text.encode(), str(self.path))
        if cal is None:
            return
        yield from expand_events(cal, start, end, self.zone)

    def _task_blocks(self, text: str) -> Iterator[tuple[re.Match[str], icalendar.Component]]:
        for match in _BLOCK.finditer(text):
            block = match.group(0)
            if MARKER not in block:
                continue
            try:
                comp = icalendar.Component.from_ical(block)
            except ValueError as exc:
                log.warning("%s: unreadable nurture task (%s); left alone", self.path, exc)
                continue
            if MARKER in comp:
                yield match, comp

    def tasks(self) -> list[TaskRecord]:
        text = self._text()
        return [
            record_from_component(comp, _etag(m.group(0).encode()), self.zone)
            for m, comp in self._task_blocks(text)
        ]

    def _find(self, text: str, uid: str) -> re.Match[str] | None:
        for match, comp in self._task_blocks(text):
            if str(comp.get("uid", "")) == uid:
                return match
        return None

    def _write(self, text: str) -> None:
        if not text.strip():
            text = (
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//nurture//nurture follow-ups//EN\r\n"
                "END:VCALENDAR\r\n"
            )
        atomic_write(self.path, text.encode())

    def _block(self, task: CalendarTask) -> str:
        return task_component(task, task_digest(task), datetime.now(UTC)).to_ical().decode()

    def _create(self, task: CalendarTask) -> TaskRecord:
        with self._locked():
            text = self._text()
            block = self._block(task)
            existing = self._find(text, task.uid)
            if existing is not None:
                text = text[: existing.start()] + block + text[existing.end() :]
            else:
                if "END:VCALENDAR" not in text:
                    self._write("")
                    text = self._text()
                cut = text.rfind("END:VCALENDAR")
                text = text[:cut] + block + text[cut:]
            self._write(text)
        return self._record_of(block)

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        with self._locked():
            text = self._text()
            existing = self._find(text, record.uid)
            if existing is None or _etag(existing.group(0).encode()) != record.ref:
                raise TaskConflict(f"{self.path}: task {record.uid} changed since it was read")
            block = self._block(task)
            self._write(text[: existing.start()] + block + text[existing.end() :])
        return self._record_of(block)

    def _delete(self, record: TaskRecord) -> None:
        with self._locked():
            text = self._text()
            existing = self._find(text, record.uid)
            if existing is None:
                return
            if record.ref and _etag(existing.group(0).encode()) != record.ref:
                raise TaskConflict(f"{self.path}: task {record.uid} changed since it was read")
            self._write(text[: existing.start()] + text[existing.end() :])

    def _record_of(self, block: str) -> TaskRecord:
        comp = icalendar.Component.from_ical(block)
        return record_from_component(comp, _etag(block.encode()), self.zone)
