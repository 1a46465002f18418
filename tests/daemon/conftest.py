"""Fixtures for the daemon tests: a fake App, a fake NOTIFY_SOCKET, a settable clock."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from nurture.app import AccountSync, SyncReport
from nurture.apply import ApplyReport as Report
from nurture.daemon import Daemon, Settings
from nurture.errors import Problem
from nurture.health import AccountHealth
from nurture.jobs import Clock
from nurture.notify import Notifier

WAIT = 20.0  # seconds before a wait_for gives up; generous for a loaded CI machine


def wait_for(condition: Callable[[], object], timeout: float = WAIT, what: str = "") -> None:
    """Poll `condition` until it is true; fail the test (not a timing assertion) if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or condition}")


@dataclass
class FakeApp:
    """Stands in for nurture.app.App: records every call and the thread it came on."""

    accounts: list[str] = field(default_factory=lambda: ["work", "home"])
    # account -> list of results to return (int) or raise (Exception), consumed in order
    script: dict[str, list[object]] = field(default_factory=dict)
    changes: int = 0
    calls: list[tuple[str, str]] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    # every health the App would keep for `nurture status`, as (account, ok, problem, paused)
    statuses: list[tuple[str, bool, str, bool]] = field(default_factory=list)
    health: dict[str, AccountHealth] = field(default_factory=dict)
    reconciles: list[datetime] = field(default_factory=list)
    sync_times: list[tuple[str, datetime]] = field(default_factory=list)
    rules_dirty: bool = False
    rule_problems: list[Problem] = field(default_factory=list)
    reloads: int = 0
    closed: bool = False
    block: threading.Event | None = None
    reconcile_script: list[object] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # a long sync that commits a batch every `batch_pause` s while `working` is set
    working: threading.Event | None = None
    batch_pause: float = 0.1
    progress: Callable[[int, int | None], None] = lambda _done, _total: None

    def _note(self, what: str, arg: str = "") -> None:
        with self.lock:
            self.calls.append((what, arg))
            if what != "rules_changed":
                self.threads.add(threading.current_thread().name)

    def mail_accounts(self) -> list[str]:
        self._note("mail_accounts")
        return list(self.accounts)

    def sync_all(
        self,
        now: datetime | None = None,
        *,
        dry_run: bool = False,
        accounts: Sequence[str] | None = None,
        reconcile: bool = True,
    ) -> SyncReport:
        """As `App.sync_all`: each account judged into its health, kept unless a dry run."""
        assert now is not None
        synced = []
        for account in self.accounts if accounts is None else accounts:
            before = self.health.get(account) or AccountHealth(account)
            error: Exception | None = None
            changes = 0
            try:
                changes = self._sync(account, now)
            except Exception as exc:
                error = exc
                after = before.failed(exc, now, command=self._auth_command(account))
            else:
                after = before.succeeded(now)
            self.health[account] = after
            if not dry_run:
                self._note("status", account)
                self.statuses.append((account, after.ok, after.problem, after.paused))
            synced.append(AccountSync(account, changes, before, after, error))
        return SyncReport(tuple(synced), self.reconcile(now) if reconcile else None)  # type: ignore[arg-type]

    def _auth_command(self, account: str) -> str:
        connector = getattr(self, "connector", None)
        return connector(account).auth_command() if connector else ""

    def _sync(self, account: str, now: datetime) -> int:
        self._note("sync", account)
        self.sync_times.append((account, now))
        if self.block is not None:
            self.block.wait()
        done = 0
        while self.working is not None and self.working.is_set():
            time.sleep(self.batch_pause)
            done += 1
            self.progress(done, None)
        queue = self.script.get(account)
        if queue:
            outcome = queue.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            assert isinstance(outcome, int)
            return outcome
        return self.changes

    def reconcile(self, now: datetime, dry_run: bool = False) -> Report:
        self._note("reconcile")
        self.reconciles.append(now)
        if self.reconcile_script:
            outcome = self.reconcile_script.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            assert isinstance(outcome, Report)
            return outcome
        return Report(unchanged=1)

    def reload_rules(self) -> list[Problem]:
        self._note("reload_rules")
        self.reloads += 1
        self.rules_dirty = False
        return list(self.rule_problems)

    def rules_changed(self) -> bool:
        self._note("rules_changed")
        return self.rules_dirty

    def close(self) -> None:
        self._note("close")
        self.closed = True

    def count(self, what: str, arg: str | None = None) -> int:
        with self.lock:
            return sum(1 for w, a in self.calls if w == what and (arg is None or a == arg))


class NotifyListener:
    """A fake service manager: binds a datagram socket and collects what arrives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append(data.decode())

    def assignments(self) -> list[str]:
        return [line for message in list(self.messages) for line in message.splitlines()]

    def count(self, assignment: str) -> int:
        return sum(1 for line in self.assignments() if line == assignment)

    def statuses(self) -> list[str]:
        return [line[7:] for line in self.assignments() if line.startswith("STATUS=")]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifyListener]:
    notify = NotifyListener(tmp_path / "notify.sock")
    yield notify
    notify.close()


class OffsetClock(Clock):
    """The daemon's clock with an offset the test can move (a simulated suspend)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.shift = 0.0

    def offset(self) -> float:
        return self.shift


FAST = Settings(
    sync_every=timedelta(seconds=3600),
    reconcile_every=timedelta(seconds=3600),
    tick_every=timedelta(seconds=0.2),
    backoff_first=timedelta(seconds=0.2),
    backoff_max=timedelta(seconds=0.4),
    auth_retry_every=timedelta(seconds=0.3),
    stop_timeout=timedelta(seconds=5),
    jump_threshold=timedelta(seconds=30),
)


@pytest.fixture
def make_daemon(listener: NotifyListener) -> Iterator[Callable[..., Daemon]]:
    made: list[Daemon] = []

    def make(
        app: FakeApp | Callable[[], FakeApp], settings: Settings = FAST, **kw: object
    ) -> Daemon:
        loader = app if callable(app) and not isinstance(app, FakeApp) else (lambda: app)
        kw.setdefault("notifier", Notifier(str(listener.path), kw.pop("watchdog_usec", None)))  # type: ignore[arg-type]
        daemon = Daemon(loader, settings, **kw)  # type: ignore[arg-type]
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        if not daemon._stopping:
            daemon.stop()
