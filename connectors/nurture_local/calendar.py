"""A local calendar: a vdir folder (one .ics per item, as khal and vdirsyncer
use it) or a single .ics file. Busy time and meetings are read from it; nurture
writes its tasks into it.

Only nurture's own tasks (`nurture.ical.is_task`: the marker and the UID derived
from it) are ever rewritten or deleted. A single .ics file is handled as bytes:
it is cut into its top-level components (`nurture.ical.layout`) and only
nurture's blocks change, so every other component keeps its bytes, its
encoding included. Writes are atomic (temporary file + rename), go through a
symlink to its target and keep the file's mode; a task is only rewritten if it
is unchanged since it was read (its content hash is the etag).

One odd object never stops a read: an event or task that cannot be read is
reported (file and UID) and skipped. An unchanged file is not parsed again: its
parsed events are kept by (inode, size, mtime) for the window they cover.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import icalendar

from nurture.connector import CalendarStore, task_hash
from nurture.errors import Problem, TaskConflict, UserError
from nurture.files import read_limited, replace_file, sweep_temporaries
from nurture.ical import (
    UNREADABLE,
    Reports,
    block_uid,
    calendar_for,
    expand_events,
    is_task,
    layout,
    record_from_component,
    task_calendar,
    task_component,
)
from nurture.model import UTC, CalendarEvent, CalendarTask, TaskRecord

log = logging.getLogger(__name__)

# The largest calendar file read. A 100,000-event export is 15 MB.
MAX_FILE_BYTES = 256 * 1024 * 1024
# A parsed file serves reads whose window lies inside the one it was parsed for.
_BEFORE = timedelta(days=1)
_AFTER = timedelta(days=8)
_MARKED = re.compile(rb"^X-NURTURE-KEY[;:]", re.M | re.I)
_TASK_COMPONENTS = ("VEVENT", "VTODO")
_EMPTY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//nurture//nurture follow-ups//EN\r\n"
_END = b"END:VCALENDAR\r\n"


def _etag(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _read(path: Path, report: Reports) -> bytes | None:
    """A calendar file's bytes; None (reported) when it is not one nurture will read."""
    try:
        return read_limited(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        report(str(path), "", f"not read: {exc.strerror or exc}", "fix or remove it")
        return None


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class _Parsed:
    stamp: tuple[int, int, int, int]
    low: datetime
    high: datetime
    calendar: icalendar.Calendar | None


class _ParsedFiles:
    """Parsed calendars by path, reused while a file is unchanged and the window inside."""

    def __init__(self, report: Reports) -> None:
        self._files: dict[Path, _Parsed] = {}
        self._report = report

    def get(self, path: Path, start: datetime, end: datetime) -> icalendar.Calendar | None:
        stamp = _stamp(path)
        if stamp is None:
            self._files.pop(path, None)
            return None
        cached = self._files.get(path)
        if cached and cached.stamp == stamp and cached.low <= start and end <= cached.high:
            return cached.calendar
        low, high = start - _BEFORE, end + _AFTER
        data = _read(path, self._report)
        calendar = calendar_for(data, str(path), low, high, self._report) if data else None
        self._files[path] = _Parsed(stamp, low, high, calendar)
        return calendar

    def keep(self, paths: set[Path]) -> None:
        for gone in set(self._files) - paths:
            del self._files[gone]


def _task_blocks(
    data: bytes, where: str, report: Reports
) -> Iterator[tuple[int, int, icalendar.Component]]:
    """(start, end, component) of each of nurture's tasks among a file's top-level blocks."""
    for block in layout(data).blocks:
        if block.name not in _TASK_COMPONENTS:
            continue
        raw = data[block.start : block.end]
        if not _MARKED.search(raw):
            continue
        try:
            comp = icalendar.Component.from_ical(raw)
        except Exception as exc:
            report(where, block_uid(raw), f"unreadable ({exc}); left alone")
            continue
        if is_task(comp):
            yield block.start, block.end, comp


def _record(
    comp: icalendar.Component, ref: str, zone: tzinfo, where: str, report: Reports
) -> TaskRecord | None:
    try:
        return record_from_component(comp, ref, zone)
    except UNREADABLE as exc:
        report(where, str(comp.get("uid", "")), f"nurture task unreadable ({exc!r}); skipped")
        return None


class VdirCalendar(CalendarStore):
    """A vdir: nurture's tasks are files named after their UID."""

    supports_todo = True

    def __init__(self, path: Path, zone: tzinfo, read_only: bool = False) -> None:
        self.path = path
        self.zone = zone
        self.read_only = read_only
        self._report = Reports()
        self._parsed = _ParsedFiles(self._report)

    def _files(self) -> list[Path]:
        try:
            return sorted(
                Path(e.path)
                for e in os.scandir(self.path)
                if e.name.endswith(".ics") and e.is_file() and not e.name.startswith(".")
            )
        except (FileNotFoundError, NotADirectoryError):
            return []

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        files = self._files()
        self._parsed.keep(set(files))
        for path in files:
            cal = self._parsed.get(path, start, end)
            if cal is not None:
                yield from expand_events(cal, start, end, self.zone, str(path), self._report)

    def tasks(self) -> list[TaskRecord]:
        records = []
        for path in self._files():
            data = _read(path, self._report)
            if not data or not _MARKED.search(data):
                continue
            ref = f"{path.name}\t{_etag(data)}"
            for _start, _end, comp in _task_blocks(data, str(path), self._report):
                record = _record(comp, ref, self.zone, str(path), self._report)
                if record is not None:
                    records.append(record)
        return records

    def _path_for(self, uid: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", uid)
        return self.path / f"{safe}.ics"

    def _write(self, path: Path, data: bytes) -> None:
        sweep_temporaries(self.path)
        replace_file(path, data)

    def _create(self, task: CalendarTask) -> TaskRecord:
        self.path.mkdir(parents=True, exist_ok=True)
        path = self._path_for(task.uid)
        current = _read(path, self._report)
        if current is not None:
            ours = [c for _s, _e, c in _task_blocks(current, str(path), self._report)]
            if not any(str(c.get("uid")) == task.uid for c in ours):
                raise TaskConflict(f"{path} holds another object; nurture leaves it alone")
        data = task_calendar(task, task_hash(task), datetime.now(UTC))
        self._write(path, data)
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
        data = task_calendar(task, task_hash(task), datetime.now(UTC))
        self._write(path, data)
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
        sweep_temporaries(self.path)
        path.unlink(missing_ok=True)

    def _record(self, path: Path, data: bytes) -> TaskRecord:
        comp = next(c for _s, _e, c in _task_blocks(data, str(path), self._report))
        return record_from_component(comp, f"{path.name}\t{_etag(data)}", self.zone)


class IcsFileCalendar(CalendarStore):
    """A single .ics file: nurture's blocks are rewritten, every other byte kept as it is."""

    supports_todo = True

    def __init__(self, path: Path, zone: tzinfo, read_only: bool = False) -> None:
        self.path = path
        self.zone = zone
        self.read_only = read_only
        self._report = Reports()
        self._parsed = _ParsedFiles(self._report)
        self._tasks: tuple[tuple[int, int, int, int], tuple[TaskRecord, ...]] | None = None

    @contextmanager
    def _locked(self) -> Iterator[Path]:
        """Hold the file's lock; yields the real file (a symlink's target) to write."""
        target = Path(os.path.realpath(self.path))
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.with_name(f".{target.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield target
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _data(self) -> bytes:
        return _read(self.path, self._report) or b""

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        cal = self._parsed.get(self.path, start, end)
        if cal is not None:
            yield from expand_events(cal, start, end, self.zone, str(self.path), self._report)

    def tasks(self) -> list[TaskRecord]:
        stamp = _stamp(self.path)
        if stamp is not None and self._tasks is not None and self._tasks[0] == stamp:
            return list(self._tasks[1])
        data = self._data()
        records = []
        if _MARKED.search(data):
            for start, end, comp in _task_blocks(data, str(self.path), self._report):
                record = _record(
                    comp, _etag(data[start:end]), self.zone, str(self.path), self._report
                )
                if record is not None:
                    records.append(record)
        if stamp is not None and stamp == _stamp(self.path):
            self._tasks = (stamp, tuple(records))
        return records

    def _find(self, data: bytes, uid: str) -> tuple[int, int] | None:
        for start, end, comp in _task_blocks(data, str(self.path), self._report):
            if str(comp.get("uid", "")) == uid:
                return start, end
        return None

    def _current(self) -> bytes:
        """The file as it is now, refusing to write into one that is not a calendar."""
        data = self._data()
        if not data.strip():
            return _EMPTY + _END
        if not re.search(rb"^END:VCALENDAR", data, re.M):
            raise UserError(
                f"{self.path} is not a complete iCalendar file; nurture will not write to it",
                [Problem(str(self.path), "no END:VCALENDAR line", "fix the file, or remove it")],
            )
        return data

    def _write(self, target: Path, data: bytes) -> None:
        sweep_temporaries(target.parent)
        replace_file(target, data)

    def _block(self, task: CalendarTask) -> bytes:
        return task_component(task, task_hash(task), datetime.now(UTC)).to_ical()

    def _create(self, task: CalendarTask) -> TaskRecord:
        block = self._block(task)
        with self._locked() as target:
            data = self._current()
            existing = self._find(data, task.uid)
            if existing is not None:
                data = data[: existing[0]] + block + data[existing[1] :]
            else:
                cut = [m.start() for m in re.finditer(rb"^END:VCALENDAR", data, re.M)][-1]
                data = data[:cut] + block + data[cut:]
            self._write(target, data)
        return self._record_of(block)

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        block = self._block(task)
        with self._locked() as target:
            data = self._data()
            existing = self._find(data, record.uid)
            if existing is None or _etag(data[existing[0] : existing[1]]) != record.ref:
                raise TaskConflict(f"{self.path}: task {record.uid} changed since it was read")
            self._write(target, data[: existing[0]] + block + data[existing[1] :])
        return self._record_of(block)

    def _delete(self, record: TaskRecord) -> None:
        with self._locked() as target:
            data = self._data()
            existing = self._find(data, record.uid)
            if existing is None:
                return
            if record.ref and _etag(data[existing[0] : existing[1]]) != record.ref:
                raise TaskConflict(f"{self.path}: task {record.uid} changed since it was read")
            self._write(target, data[: existing[0]] + data[existing[1] :])

    def _record_of(self, block: bytes) -> TaskRecord:
        comp = icalendar.Component.from_ical(block)
        return record_from_component(comp, _etag(block), self.zone)
