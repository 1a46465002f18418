"""The local calendar as a file the user owns: nurture changes its own blocks and nothing else.

The hostile run found a single .ics rewritten lossy (latin-1 text turned into
U+FFFD), a symlinked calendar replaced by a regular file, the file's mode
changed to 0600, and a killed write leaving its temporary file behind.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nurture_local.calendar import IcsFileCalendar, VdirCalendar

from nurture import ical
from nurture.errors import UserError
from tests.contract import sample_task

FOREIGN = (
    b"BEGIN:VEVENT\r\nUID:cafe@old.app\r\nDTSTAMP:20261101T000000Z\r\n"
    b"DTSTART:20261125T090000Z\r\nDTEND:20261125T100000Z\r\n"
    b"SUMMARY:Caf\xe9 r\xe9union\r\nX-OLD-APP-COLOR:#f0a\r\nEND:VEVENT\r\n"
)
CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//old app//EN\r\n" + FOREIGN
CALENDAR += b"END:VCALENDAR\r\n"
WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def _cycle(store: IcsFileCalendar) -> None:
    record = store.create_task(sample_task())
    record = store.update_task(sample_task(hour=15), record)
    store.delete_task(record)


def test_foreign_bytes_survive_task_writes(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(CALENDAR)
    store = IcsFileCalendar(path, UTC)
    record = store.create_task(sample_task())
    assert FOREIGN in path.read_bytes()
    assert [e.uid for e in store.events(*WINDOW)] == ["cafe@old.app"]
    store.update_task(sample_task(hour=15), record)
    assert FOREIGN in path.read_bytes()
    store.delete_task(store.tasks()[0])
    assert path.read_bytes() == CALENDAR


def test_a_symlinked_calendar_is_written_through_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "synced" / "real.ics"
    target.parent.mkdir()
    target.write_bytes(CALENDAR)
    target.chmod(0o644)
    link = tmp_path / "cal.ics"
    link.symlink_to(target)
    store = IcsFileCalendar(link, UTC)
    store.create_task(sample_task())
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert b"X-NURTURE-KEY" in target.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o644
    _cycle(store)
    assert target.stat().st_mode & 0o777 == 0o644
    assert link.is_symlink()


def test_a_file_that_is_not_a_calendar_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    broken = CALENDAR.replace(b"END:VCALENDAR\r\n", b"")
    path.write_bytes(broken)
    with pytest.raises(UserError, match="not a complete iCalendar file"):
        IcsFileCalendar(path, UTC).create_task(sample_task())
    assert path.read_bytes() == broken


@pytest.mark.parametrize("kind", ["vdir", "file"])
def test_temporary_files_of_killed_writes_are_swept(tmp_path: Path, kind: str) -> None:
    if kind == "vdir":
        folder = tmp_path / "calendar"
        folder.mkdir()
        store: VdirCalendar | IcsFileCalendar = VdirCalendar(folder, UTC)
    else:
        folder = tmp_path
        store = IcsFileCalendar(tmp_path / "cal.ics", UTC)
    stale, fresh = folder / ".nurture-41.0badc0de.tmp", folder / ".nurture-42.feedbeef.tmp"
    for leftover in (stale, fresh):
        leftover.write_bytes(b"BEGIN:VCALENDAR\r\n")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    store.create_task(sample_task())
    assert not stale.exists(), "a killed write's leftover stays forever"
    assert fresh.exists(), "a temporary file this young may be another writer's"


def _in_time(call: object, seconds: float = 20.0) -> bool:
    done = threading.Event()

    def run() -> None:
        call()  # type: ignore[operator]
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


def test_a_fifo_or_a_device_in_the_calendar_is_skipped_not_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "calendar"
    folder.mkdir()
    (folder / "real.ics").write_bytes(CALENDAR)
    os.mkfifo(folder / "fifo.ics")
    (folder / "zero.ics").symlink_to("/dev/zero")
    store = VdirCalendar(folder, UTC)
    found: list[str] = []
    with caplog.at_level(logging.WARNING):
        assert _in_time(lambda: found.extend(e.uid for e in store.events(*WINDOW)))
        assert _in_time(store.tasks)
    assert found == ["cafe@old.app"]


def test_an_unchanged_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nurture_local.calendar as local

    parsed: list[str] = []
    real = ical.calendar_for

    def counting(data: bytes, where: str, *args: object) -> object:
        parsed.append(where)
        return real(data, where, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(local, "calendar_for", counting)
    path = tmp_path / "cal.ics"
    path.write_bytes(CALENDAR)
    store = IcsFileCalendar(path, UTC)
    for minutes in range(3):
        start = WINDOW[0] + timedelta(minutes=15 * minutes)
        assert [e.uid for e in store.events(start, WINDOW[1])] == ["cafe@old.app"]
    assert len(parsed) == 1
    path.write_bytes(CALENDAR.replace(b"Caf\xe9", b"Tea"))
    assert [e.summary for e in store.events(*WINDOW)] == ["Tea r\ufffdunion"]
    assert len(parsed) == 2
