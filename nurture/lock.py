"""One nurture at a time per state folder: an advisory lock on ``<state>/nurture.lock``.

The daemon holds it for as long as it runs, and `nurture sync` for one sync: two
runs at once each placed every task (two syncs recorded "500 placed" for 250 tasks).

A second, short-lived lock, ``<state>/nurture.write.lock`` (`WriteLock`), is held
while the ledger and the calendar change: each reconcile (the daemon's or a sync's)
and `nurture dismiss`, which runs beside the daemon. A reconcile that read the ledger
before a dismissal and wrote after it put the dismissed task back. Its takers wait
for it a little (`Limits.writer`) instead of being refused at once.

`fcntl.flock` is released by the kernel when the process dies, even by
``kill -9``, so a crash never leaves a stale lock behind; the PID written into
the file is only there to tell the user which process holds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from .errors import UserError, storage_error

LOCK_NAME = "nurture.lock"
WRITE_LOCK_NAME = "nurture.write.lock"


class AlreadyRunning(UserError):
    """Another nurture (the daemon, or a sync) holds the lock of this state folder."""

    def __init__(self, path: Path, pid: int | None) -> None:
        who = f" (pid {pid})" if pid else ""
        super().__init__(
            f"nurture is already running for {path.parent}{who}: the daemon, or a sync "
            "not yet done. Wait for it to finish, or stop it first (`systemctl --user stop "
            "nurture`, or end that process); the daemon syncs by itself."
        )
        self.path = path
        self.pid = pid


class Busy(UserError):
    """Another nurture is changing the ledger and the calendar (`WriteLock`), still."""

    def __init__(self, path: Path, pid: int | None) -> None:
        who = f" (pid {pid})" if pid else ""
        super().__init__(
            f"nurture is updating the calendar for {path.parent} right now{who}: the "
            "daemon, or a sync. Nothing was changed; try again in a minute."
        )
        self.path = path
        self.pid = pid


def holder(state_dir: Path) -> int | None:
    """The PID written by the process that holds the lock, if any holds it."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return _read_pid(fd)
            raise
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


class InstanceLock:
    """Holds the state folder's lock for as long as the daemon runs.

    Use as a context manager, or call `acquire` and `release`.
    """

    name = LOCK_NAME

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / self.name
        self._fd: int | None = None

    def refused(self, pid: int | None) -> UserError:
        """The error when another process holds the lock: who, and what to do."""
        return AlreadyRunning(self.path, pid)

    def acquire(self, wait: float = 0.0) -> InstanceLock:
        """Take the lock, waiting up to `wait` seconds for its holder, or raise `refused`
        naming the holder (`StorageError` when the state folder cannot hold the lock
        file: read-only, or a full disk)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            folder = str(self.path.parent)
            error = storage_error(exc, "the state", folder, "[paths] state in config.toml")
            if error is None:
                raise
            raise error from exc
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise self.refused(pid) from None
            time.sleep(0.05)  # flock cannot wait with a timeout: ask again
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:  # a full disk: the lock holds all the same, only the PID is unsaid
            pass
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock; the file stays (removing it would race a new owner)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with suppress(OSError):  # the PID goes; a disk gone read-only keeps it
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class WriteLock(InstanceLock):
    """Held while the ledger and the calendar change (see the module's docstring)."""

    name = WRITE_LOCK_NAME

    def refused(self, pid: int | None) -> UserError:
        return Busy(self.path, pid)


def poke(state_dir: Path, sig: int = signal.SIGHUP) -> int | None:
    """Ask the daemon of `state_dir`, if one runs, to reload (SIGHUP); its PID, or None.

    For commands that change what the daemon depends on (`nurture auth` after
    new credentials): a paused account is retried at once instead of within the hour.
    """
    pid = holder(state_dir)
    if pid is None or pid == os.getpid():
        return None
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return None
    return pid
