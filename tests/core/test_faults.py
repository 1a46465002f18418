"""Faults around the app: odd files, a second run, a wrong clock, a full or read-only disk.

Each ends in a clear message, or in nothing changed; never a traceback, never a lost decision.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nurture.app import App
from nurture.cli import main
from nurture.deadline import Limits, Watch
from nurture.errors import ClockBehind, StorageError
from nurture.health import AccountHealth
from nurture.lock import Busy, InstanceLock, WriteLock
from nurture.service import command
from nurture.state import State

from .conftest import NOW, Setup


def test_a_dangling_rule_file_link_is_a_change_not_a_crash(setup: Setup) -> None:
    app = setup.app()
    try:
        (setup.root / "rules" / "gone.toml").symlink_to(setup.root / "nowhere.toml")
        assert app.rules_changed()  # stat() of the link's missing target raised here
        problems = app.reload_rules()
        assert [p.where.split(":")[0].rsplit("/", 1)[-1] for p in problems] == ["gone.toml"]
        assert not app.rules_changed()
    finally:
        app.close()


def test_a_relative_config_path_gives_absolute_paths_and_links(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.ask(days_ago=4)
    monkeypatch.chdir(setup.root.parent)
    app = App.load(Path(setup.root.name) / "config.toml")
    try:
        assert app.config.path.is_absolute() and app.config.state_dir.is_absolute()
        assert Path(app.config.account("mail").options["maildir"]).is_absolute()
        report = app.sync_all(NOW).calendar
    finally:
        app.close()
    assert report is not None
    (placement,) = report.placements
    link = placement.suggestion.thread_link
    assert link.startswith("file:///") and Path(link.removeprefix("file://")).exists()


def nurture(setup: Setup, *args: str) -> Result:
    """The `nurture` command on the setup's config, as a user types it."""
    return CliRunner().invoke(
        main,
        ["--config", str(setup.root / "config.toml"), *args],
        env={"COLUMNS": "200"},
        catch_exceptions=False,
    )


def test_a_second_sync_at_once_is_refused_and_changes_nothing(setup: Setup) -> None:
    """Two `sync --once` at a time placed every task twice: the second is refused."""
    setup.ask(days_ago=4)
    state = setup.app().config.state_dir
    with InstanceLock(state):  # the daemon, or another sync, holds the state folder
        refused = nurture(setup, "sync", "--once", "--now", NOW.isoformat())
    assert refused.exit_code != 0
    assert f"pid {os.getpid()}" in refused.output and "already" in refused.output
    assert "systemctl --user stop nurture" in refused.output
    assert setup.ledger() == {} and list(setup.calendar.glob("*.ics")) == []
    done = nurture(setup, "sync", "--once", "--now", NOW.isoformat())
    assert done.exit_code == 0, done.output
    assert len(setup.ledger()) == 1


def test_dismiss_waits_for_a_reconcile_writing_the_calendar(setup: Setup) -> None:
    """`dismiss` ran beside the daemon without a lock: a reconcile that read the ledger
    before it and wrote after it put the dismissed task back. It waits for the writer."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    (key,) = setup.ledger()
    state = setup.app().config.state_dir
    writer = WriteLock(state).acquire()  # a reconcile in progress
    released = threading.Event()

    def finish() -> None:
        time.sleep(0.3)
        released.set()
        writer.release()

    threading.Thread(target=finish).start()
    done = nurture(setup, "dismiss", key)
    assert released.is_set(), "dismiss changed the ledger while a reconcile held it"
    assert done.exit_code == 0, done.output
    assert setup.ledger() == {key: "dismissed"} and _calendar(setup) == {}


def test_a_dismiss_that_waits_too_long_says_so_and_changes_nothing(setup: Setup) -> None:
    setup.ask(days_ago=4)
    setup.sync(NOW)
    (key,) = setup.ledger()
    calendar = _calendar(setup)
    app = setup.app()
    app.limits = Limits(writer=timedelta(seconds=0.2))
    try:
        with WriteLock(app.config.state_dir), pytest.raises(Busy) as info:
            app.dismiss(key, NOW)
        with WriteLock(app.config.state_dir), pytest.raises(Busy):
            app.reconcile(NOW)  # the daemon's reconcile waits for a dismiss the same way
        app.reconcile(NOW, dry_run=True)  # a dry run writes nothing: it never waits
    finally:
        app.close()
    assert f"pid {os.getpid()}" in str(info.value) and "try again" in str(info.value)
    assert setup.ledger() == {key: "active"} and _calendar(setup) == calendar


def _calendar(setup: Setup) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in setup.calendar.glob("*.ics")}


@pytest.mark.parametrize(
    "wrong", [datetime(1970, 1, 1, tzinfo=UTC), NOW - timedelta(days=3)], ids=["1970", "3-days"]
)
def test_a_clock_before_the_last_run_changes_nothing(setup: Setup, wrong: datetime) -> None:
    """A dead RTC (1970) or a clock three days back removed every task."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    ledger, calendar = setup.ledger(), _calendar(setup)
    assert list(ledger.values()) == ["active"]
    refused = nurture(setup, "sync", "--once", "--now", wrong.isoformat())
    assert refused.exit_code != 0
    assert "clock is behind" in refused.output and "timedatectl" in refused.output
    assert "Traceback" not in refused.output
    assert setup.ledger() == ledger and _calendar(setup) == calendar
    status = nurture(setup, "status")
    assert "clock is behind" in status.output  # what `status` says until it is right
    again = setup.sync(NOW + timedelta(hours=1))  # the clock is right again
    assert (again.created, again.removed, again.unchanged) == (0, 0, 1)
    assert _calendar(setup) == calendar


def test_the_daemons_jobs_back_off_while_the_clock_is_behind(setup: Setup) -> None:
    """The daemon's path: each mail account fails like a network that is down; the
    reconcile raises a transient error (logged once, retried); nothing is written."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    ledger = setup.ledger()
    app = setup.app()
    try:
        (mail,) = app.sync_all(NOW - timedelta(hours=1), reconcile=False).mail
        assert isinstance(mail.error, ClockBehind) and not mail.health.ok
        with pytest.raises(ClockBehind):
            app.reconcile(NOW - timedelta(hours=1))
        assert app.sync_all(NOW - timedelta(minutes=2), reconcile=False).mail[0].health.ok
    finally:
        app.close()
    assert setup.ledger() == ledger


def test_a_snoozed_task_that_comes_back_keeps_the_users_time(setup: Setup) -> None:
    """A task removed for a while (its sender ignored, then not) returns at the time the
    user snoozed it to, not at a default slot."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    (path,) = setup.calendar.glob("*.ics")
    text = path.read_text()
    start = re.search(r"DTSTART:(\S+)", text).group(1)  # type: ignore[union-attr]
    end = re.search(r"DTEND:(\S+)", text).group(1)  # type: ignore[union-attr]
    path.write_text(
        text.replace(f"DTSTART:{start}", "DTSTART:20261127T150000Z").replace(
            f"DTEND:{end}", "DTEND:20261127T152000Z"
        )
    )
    assert setup.sync(NOW).updated + setup.sync(NOW).unchanged >= 1  # the move is seen
    rules = setup.root / "rules" / "work.toml"
    good = rules.read_text()
    rules.write_text(good + '\n[ignore]\nsenders = ["dana@client.example"]\n')
    assert setup.sync(NOW + timedelta(hours=1)).removed == 1
    rules.write_text(good)
    back = setup.sync(NOW + timedelta(hours=2))
    assert back.created == 1
    (path,) = setup.calendar.glob("*.ics")
    assert "DTSTART:20261127T150000Z" in path.read_text()


# Full and read-only disks. The real thing where the test may mount a small tmpfs
# (root), a skip where it may not; each has an injected twin that always runs.


@contextmanager
def small_disk(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (its files copied in), unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")
    saved = {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        for name, data in saved.items():
            (folder / name).write_bytes(data)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the disk under `folder` to the last byte; the file that holds it."""
    path = folder / "filler"
    with open(path, "wb", buffering=0) as out:
        try:
            while out.write(b"\0" * 4096):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return path


def read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


def integrity(setup: Setup) -> list[tuple[str, ...]]:
    db = sqlite3.connect(setup.root / "state" / "state.sqlite3")
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


def refused(result: Result, *words: str) -> None:
    """`result` failed with a message that has `words`, and no traceback."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output


def test_a_full_disk_under_the_state_is_said_and_changes_nothing(setup: Setup) -> None:
    setup.ask(days_ago=4)
    setup.sync(NOW)
    ledger = setup.ledger()
    setup.ask(who="Sam Ortiz <sam@client.example>", days_ago=4, subject="Contract")
    with small_disk(setup.root / "state") as state:
        filler = fill(state)
        for args in (["list"], ["status"], ["sync", "--now", NOW.isoformat()]):
            refused(nurture(setup, *args), "the disk is full", str(state), "[paths] state")
        filler.unlink()
        assert integrity(setup) == [("ok",)]
        assert setup.ledger() == ledger
        assert setup.sync(NOW).created == 1  # with room again, Sam's task comes


def test_a_read_only_state_folder_is_said(setup: Setup) -> None:
    setup.ask(days_ago=4)
    setup.sync(NOW)
    with small_disk(setup.root / "state") as state:
        read_only(state)
        for args in (["list"], ["status"], ["sync", "--now", NOW.isoformat()]):
            refused(nurture(setup, *args), "read-only", str(state), "[paths] state")


def test_a_full_disk_under_the_calendar_is_said_and_the_task_comes_later(setup: Setup) -> None:
    setup.ask(days_ago=4)
    setup.sync(NOW)  # the state exists
    setup.ask(who="Sam Ortiz <sam@client.example>", days_ago=4, subject="Contract")
    with small_disk(setup.calendar, "64k") as calendar:
        filler = fill(calendar)
        refused(
            nurture(setup, "sync", "--now", NOW.isoformat()),
            "calendar cal",
            "the disk is full",
            "[accounts.cal]",
        )
        assert "the disk is full" in nurture(setup, "status").output
        assert integrity(setup) == [("ok",)]
        filler.unlink()
        assert setup.sync(NOW).created == 1


def test_a_state_that_cannot_grow_is_said_and_rolls_back(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The injected twin of the full disk: SQLite's own limit on the file's pages makes
    every write that needs a new page fail as on a full disk (SQLITE_FULL)."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    ledger = setup.ledger()
    for n in range(40):  # enough mail that storing it needs new pages
        setup.ask(who=f"Person {n} <p{n}@client.example>", days_ago=4, subject=f"Q{n} " * 40)
    opened = State.open

    def capped(folder: Path) -> State:
        state = opened(folder)
        pages = state.db.execute("PRAGMA page_count").fetchone()[0]
        state.db.execute(f"PRAGMA max_page_count = {pages}")
        return state

    monkeypatch.setattr(State, "open", capped)
    refused(nurture(setup, "sync", "--now", NOW.isoformat()), "the disk is full", "[paths] state")
    monkeypatch.undo()
    assert integrity(setup) == [("ok",)] and setup.ledger() == ledger
    assert setup.app().state.message_count() == 1  # the failed batch left nothing half-stored


def test_a_read_only_state_is_said_when_opening_fails(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The injected twin of the read-only folder: the first write (the file's mode) fails."""
    setup.ask(days_ago=4)
    setup.sync(NOW)

    def refuse(path: object, mode: int) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr("nurture.state.os.chmod", refuse)
    for args in (["list"], ["status"]):
        refused(nurture(setup, *args), "read-only", "[paths] state")


def test_a_calendar_write_that_finds_no_room_is_said(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The injected twin of the full calendar disk: the file write itself fails."""
    setup.ask(days_ago=4)

    def no_room(path: Path, data: bytes, mode: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("nurture.files._write_new", no_room)
    refused(nurture(setup, "sync", "--now", NOW.isoformat()), "calendar cal", "disk is full")
    assert integrity(setup) == [("ok",)]
    monkeypatch.undo()
    assert setup.sync(NOW).created == 1


def test_a_full_disk_is_one_warning_in_the_daemons_log_without_a_traceback() -> None:
    full = StorageError("the state (/s)", "the disk is full", "free some space on it")
    fresh = AccountHealth("mail")
    failing = fresh.failed(full, NOW)
    first = failing.news(fresh, timedelta(seconds=30))
    assert first is not None and first.level == logging.WARNING and not first.traceback
    assert "the disk is full — free some space" in first.text
    later = failing.failed(full, NOW).news(failing, timedelta(minutes=1))
    assert later is not None and later.level == logging.DEBUG


def test_an_account_out_of_time_stops_after_a_batch_and_the_next_sync_goes_on(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long first sync is not a failure: it shares the worker, batch by batch."""
    monkeypatch.setattr("nurture_local.maildir.BATCH", 2)
    for n in range(5):
        setup.ask(who=f"Person {n} <p{n}@client.example>", days_ago=4, subject=f"Q{n}")
    app = setup.app()
    app.limits = Limits(account=timedelta(0))
    try:
        counts = []
        for _ in range(4):
            (mail,) = app.sync_all(NOW, reconcile=False).mail
            assert mail.health.ok
            counts.append(app.state.message_count())
    finally:
        app.close()
    assert counts == [2, 4, 5, 5]


def test_a_sync_out_of_time_starts_no_further_account(setup: Setup) -> None:
    setup.ask(days_ago=4)
    app = setup.app()
    app.limits = Limits(sync=timedelta(0))
    try:
        done = app.sync_all(NOW)
    finally:
        app.close()
    assert done.mail == () and done.late == ("mail",)
    assert done.problems == [
        "mail: not read this time (the sync ran out of time); the next sync reads it"
    ]


def test_a_watch_cuts_what_makes_no_progress_and_spares_what_does() -> None:
    cut = threading.Event()
    with Watch(quiet=0.2, budget=60, interrupt=cut.set) as busy:
        for _ in range(6):
            time.sleep(0.1)
            busy.alive()
    assert not busy.fired and not cut.is_set()
    with Watch(quiet=0.2, budget=60, interrupt=cut.set) as stuck:
        assert cut.wait(5)
    assert stuck.fired


def test_the_daemon_on_a_read_only_state_folder_says_so_and_exits(setup: Setup) -> None:
    """`nurture run` (as systemd starts it) on a read-only state: one clear line, exit 1."""
    setup.sync(NOW)
    with small_disk(setup.root / "state") as state:
        read_only(state)
        done = subprocess.run(
            command(setup.root / "config.toml"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "read-only" in done.stderr and "[paths] state" in done.stderr
