"""`nurture run` as a real process against the local connector, with a fake service manager.

One scenario walks through what a user's machine lives through: start-up
(READY), new mail becoming a task, a reply removing it, watchdog pings, a
broken rule edit (reported once, old rules kept), the fix, SIGHUP, a suspend
(the test clock hook jumps a week ahead), SIGTERM. The other kills the daemon with
SIGKILL mid-work and checks that a restart neither loses nor duplicates tasks.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from nurture.app import App
from nurture.jobs import CLOCK_OFFSET_ENV
from nurture.service import command

from .conftest import NotifyListener, wait_for

USER = "alex@brightpath.example"
SLEEP = timedelta(days=8)  # the simulated suspend
LONG = 90.0  # generous ceiling for each wait on a loaded machine; never a timing assertion
_seq = itertools.count(1)


class World:
    """A config, a Maildir, a vdir and rule files in a temporary folder; acts as everyone."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.maildir = root / "mail"
        self.calendar = root / "calendar"
        self.rules = root / "rules"
        self.config = root / "config.toml"
        self.offset_file = root / "clock-offset"
        for folder in (self.maildir, self.maildir / ".Sent"):
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True)
        self.calendar.mkdir()
        self.rules.mkdir()
        (self.rules / "work.toml").write_text('[work]\ntimezone = "UTC"\n')
        self.offset_file.write_text("0")
        self.write_config("2s")

    def write_config(self, every: str) -> None:
        self.config.write_text(
            f'[user]\nname = "Alex Morgan"\naddresses = ["{USER}"]\n'
            f'[paths]\nstate = "state"\n'
            f'[daemon]\nmail_every = "{every}"\nreconcile_every = "{every}"\n'
            f'[accounts.mail]\nconnector = "local"\nmaildir = "mail"\n'
            f'[accounts.cal]\nconnector = "local"\ncalendar = "calendar"\n'
        )

    def _deliver(self, msg: EmailMessage, folder: Path, n: int) -> None:
        name = f"{n}.M{n}P{os.getpid()}.test"
        (folder / "tmp" / name).write_bytes(bytes(msg))
        (folder / "tmp" / name).rename(folder / "new" / name)  # Maildir delivery is atomic

    def ask(self, sender: str, subject: str) -> str:
        """A question to the user, four days old: past every reply window."""
        n = next(_seq)
        mid = f"ask{n}.{os.getpid()}@test.example"
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, f"Alex Morgan <{USER}>", subject
        msg["Date"] = format_datetime(datetime.now(UTC) - timedelta(days=4))
        msg["Message-ID"] = f"<{mid}>"
        msg.set_content(f"Hi Alex,\n\nCould you send me the {subject.lower()} by Friday?\n\nThanks")
        self._deliver(msg, self.maildir, n)
        return mid

    def reply(self, mid: str, to: str, subject: str) -> None:
        n = next(_seq)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"Alex Morgan <{USER}>", to, f"Re: {subject}"
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = f"<re{n}.{os.getpid()}@test.example>"
        msg["In-Reply-To"] = msg["References"] = f"<{mid}>"
        msg.set_content("Here it is.\n\nAlex")
        self._deliver(msg, self.maildir / ".Sent", n)

    def task_keys(self) -> Counter[str]:
        """How many calendar objects carry each nurture key (a duplicate shows as 2)."""
        keys: Counter[str] = Counter()
        for path in self.calendar.glob("*.ics"):
            try:
                text = path.read_text()
            except FileNotFoundError:  # replaced while we read
                continue
            keys.update(re.findall(r"^X-NURTURE-KEY:(.+?)\r?$", text, flags=re.M))
        return keys


class Process:
    """One `nurture run`, its stderr in a file."""

    def __init__(self, world: World, notify: Path, *args: str) -> None:
        self.log_path = world.root / f"run-{next(_seq)}.log"
        env = {
            **os.environ,
            "NOTIFY_SOCKET": str(notify),
            "WATCHDOG_USEC": "2000000",  # pings every second
            CLOCK_OFFSET_ENV: str(world.offset_file),
            "XDG_CONFIG_HOME": str(world.root / "xdg-config"),
            "XDG_STATE_HOME": str(world.root / "xdg-state"),
            "XDG_CACHE_HOME": str(world.root / "xdg-cache"),
        }
        for key in ("JOURNAL_STREAM", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY"):
            env.pop(key, None)
        argv = command(world.config)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*argv, "--tick", "1s", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=world.root,
                env=env,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def _datagrams_after_last(listener: NotifyListener, marker: str) -> list[str]:
    messages = list(listener.messages)
    last = max(i for i, m in enumerate(messages) if marker in m.splitlines())
    return messages[last + 1 :]


def test_nurture_run_lives_through_a_day(
    world: World, listener: NotifyListener, processes: list[Process]
) -> None:
    run = Process(world, listener.path)
    processes.append(run)
    wait_for(lambda: listener.count("READY=1") == 1, LONG, "READY=1")

    # A second daemon on the same state folder says so and leaves.
    second = subprocess.run(
        command(world.config), capture_output=True, text=True, timeout=60, check=False
    )
    assert second.returncode == 1 and "already running" in second.stderr

    # New mail becomes a task; the user's reply removes it.
    dana = world.ask("Dana Lee <dana@client.example>", "Renewal pricing")
    wait_for(lambda: world.task_keys()[f"reply:{dana}"] == 1, LONG, "Dana's reply task")
    world.reply(dana, "dana@client.example", "Renewal pricing")
    wait_for(lambda: f"reply:{dana}" not in world.task_keys(), LONG, "Dana's task removed")

    pings = listener.count("WATCHDOG=1")
    wait_for(lambda: listener.count("WATCHDOG=1") >= pings + 3, LONG, "watchdog pings")

    # A broken edit: reported (file and key), once; the last good rules go on working.
    people = world.rules / "people.toml"
    people.write_text('[[contacts]]\nmatch = "*@partner.example"\ntier = "key"\ncadance = "1w"\n')
    wait_for(lambda: "cadance" in run.log(), LONG, "the problem reported")
    reported = next(line for line in run.log().splitlines() if "cadance" in line)
    assert "people.toml" in reported
    sam = world.ask("Sam Ortiz <sam@partner.example>", "Contract draft")
    wait_for(lambda: world.task_keys()[f"reply:{sam}"] == 1, LONG, "Sam's task (old rules)")
    os.utime(people, (people.stat().st_atime, people.stat().st_mtime + 5))  # saved again
    pings = listener.count("WATCHDOG=1")
    wait_for(lambda: listener.count("WATCHDOG=1") >= pings + 3, LONG, "three more ticks")
    assert run.log().count("cadance") == 1

    # The fix is applied: Sam is now ignored, so his task goes.
    people.write_text('[[contacts]]\nmatch = "sam@partner.example"\nignore = true\n')
    wait_for(lambda: f"reply:{sam}" not in world.task_keys(), LONG, "Sam's task removed")
    assert "fixed" in run.log()

    # SIGHUP re-reads config.toml: the intervals become a week (they fall due on
    # Saturdays at 00:00 UTC, so nothing runs by itself during the test).
    world.write_config("7d")
    run.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: listener.count("READY=1") == 2, LONG, "READY=1 after the reload")
    assert listener.count("RELOADING=1") == 1
    assert "reloaded configuration and rules" in run.log()
    # the reload syncs and reconciles once at once (two STATUS updates); then all is quiet
    wait_for(
        lambda: sum("STATUS=" in m for m in _datagrams_after_last(listener, "READY=1")) >= 2,
        LONG,
        "the post-reload cycle",
    )

    # Mail arrives, the machine sleeps eight days: on resume the due jobs run at once.
    kim = world.ask("Kim Park <kim@vendor.example>", "Invoice question")
    pings = listener.count("WATCHDOG=1")
    wait_for(lambda: listener.count("WATCHDOG=1") >= pings + 3, LONG, "three quiet ticks")
    assert f"reply:{kim}" not in world.task_keys()  # week-long intervals: nothing ran yet
    world.offset_file.write_text(str(SLEEP.total_seconds()))
    wait_for(lambda: world.task_keys()[f"reply:{kim}"] == 1, LONG, "Kim's task after resume")
    assert "woke up after" in run.log()

    # SIGTERM: a clean exit, STOPPING=1, and a state that needs no repair.
    assert run.stop() == 0
    assert listener.count("STOPPING=1") == 1
    _assert_consistent(world, datetime.now(UTC) + SLEEP)
    assert "Traceback" not in run.log()


def _assert_consistent(world: World, now: datetime) -> None:
    """Calendar, ledger and desired state agree; each task exists exactly once."""
    keys = world.task_keys()
    assert all(count == 1 for count in keys.values()), keys
    app = App.load(world.config)
    try:
        active = {k for k, e in app.state.ledger().items() if e.state == "active"}
        assert active == set(keys)
        report = app.reconcile(now, dry_run=True)
        assert (report.created, report.updated, report.removed) == (0, 0, 0)
    finally:
        app.close()


def test_kill_9_and_restart_lose_nothing_and_duplicate_nothing(
    world: World, listener: NotifyListener, processes: list[Process]
) -> None:
    first = Process(world, listener.path)
    processes.append(first)
    wait_for(lambda: listener.count("READY=1") == 1, LONG, "READY=1")
    asks = [
        world.ask(f"Person {n} <p{n}@client{n}.example>", f"Question number {n}") for n in range(4)
    ]
    wanted = {f"reply:{mid}" for mid in asks}
    # Kill as soon as work has visibly started: some tasks written, maybe not all.
    wait_for(lambda: set(world.task_keys()) & wanted, LONG, "the first task")
    first.proc.kill()
    assert first.proc.wait(timeout=30) == -signal.SIGKILL

    second = Process(world, listener.path)
    processes.append(second)
    wait_for(lambda: listener.count("READY=1") == 2, LONG, "READY=1 after the restart")
    # and once more, right in the first cycle after a restart
    second.proc.kill()
    second.proc.wait(timeout=30)

    third = Process(world, listener.path)
    processes.append(third)
    wait_for(lambda: set(world.task_keys()) >= wanted, LONG, "every task")
    pings = listener.count("WATCHDOG=1")
    wait_for(lambda: listener.count("WATCHDOG=1") >= pings + 3, LONG, "a few cycles more")
    assert third.stop() == 0
    keys = world.task_keys()
    assert set(keys) == wanted
    assert all(count == 1 for count in keys.values()), keys
    assert len(list(world.calendar.glob("*.ics"))) == len(wanted)
    _assert_consistent(world, datetime.now(UTC))


def test_a_start_with_a_broken_config_exits_with_ex_config(world: World) -> None:
    world.config.write_text("[user]\nname = 3\n")
    result = subprocess.run(
        command(world.config), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 78
    assert "config.toml" in result.stderr


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="the daemon targets Linux (systemd, flock, sigwait)")
