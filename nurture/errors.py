"""nurture's one error hierarchy.

Every error a user can see says what went wrong and what to do next. A
`UserError` carries a list of problems so that all of them are reported at
once (a rule file with three typos shows three lines, not one).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the user's input: where it is and what to do."""

    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        tail = f" — {self.fix}" if self.fix else ""
        return f"{self.where}: {self.what}{tail}"


def with_fix(what: str, command: str) -> str:
    """`what` went wrong, and the command that fixes it: the one way nurture says both."""
    return f"{what} — run `{command}`" if command else what


class NurtureError(Exception):
    """Base of every error nurture raises on purpose."""


class UserError(NurtureError):
    """Bad input from the user (config, rules, arguments); printed without a traceback."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(message)

    def __str__(self) -> str:
        lines = [self.args[0]] + [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class StorageError(UserError):
    """A folder nurture writes to cannot take the write: the disk is full, or the folder
    is read-only. Says where and what to do; what was written before is intact (each
    write is one transaction, or a temporary file renamed into place). The user must
    act, so it is shown like their bad input: one line, no traceback."""

    def __init__(self, where: str, what: str, fix: str) -> None:
        self.problem = Problem(where, what, fix)
        super().__init__(str(self.problem))


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
# SQLite's primary result codes (the low byte of the extended code Python reports).
_SQLITE_FULL, _SQLITE_IOERR, _SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM = 13, 10, 8, 14, 3
SPARE = 1 << 20  # free bytes under which a failed write is taken for a full disk


def storage_error(
    exc: BaseException, label: str, folder: str, instead: str = ""
) -> StorageError | None:
    """`exc` said for the user when it is a full disk or a read-only `folder`, else None.

    `label` says whose folder it is ("the state", "calendar work"); `instead` names the
    setting that moves the files elsewhere (``[paths] state in config.toml``).
    An I/O error counts as a full disk when the disk has (almost) no space left:
    SQLite reports a full tmpfs that way when it cannot grow its shared-memory file.
    """
    kind = _kind(exc)
    if kind == "io":
        try:
            kind = "full" if shutil.disk_usage(folder).free < SPARE else ""
        except OSError:
            kind = ""
    elsewhere = f", or set {instead} to another folder" if instead else ""
    if kind == "full":
        return StorageError(
            f"{label} ({folder})",
            "the disk is full",
            f"free some space on it{elsewhere}, then run again (nothing was lost)",
        )
    if kind == "read-only":
        return StorageError(
            f"{label} ({folder})",
            "cannot write here (a read-only disk, or a folder that is not yours)",
            f"make it writable again{elsewhere}, then run again (nothing was changed)",
        )
    return None


def _kind(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno in _FULL:
            return "full"
        if exc.errno in _READ_ONLY:
            return "read-only"
        return "io" if exc.errno == errno.EIO else ""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code == _SQLITE_FULL:
            return "full"
        if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM):
            return "read-only"
        if code == _SQLITE_IOERR:
            return "io"
    return ""


class ConnectorError(NurtureError):
    """Something failed inside a connector; the core logs it once and retries later."""


class TransientError(ConnectorError):
    """Retry later: network down, server busy, throttled.

    `retry_after` is the server's hint in seconds, when it gave one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """The user must act: credentials refused or expired.

    `command` is what fixes it, e.g. ``nurture auth google work``.
    """

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.command = command

    def __str__(self) -> str:
        return with_fix(str(self.args[0]), self.command)


class ClockBehind(TransientError):
    """The system clock is before nurture's last successful run: nothing is planned or
    changed until it is right (a dead RTC at boot says 1970; a wrong zone says days back).

    Transient: the clock is usually set right within minutes (NTP), and each account
    waits for it like for a network that is down.
    """

    def __init__(self, last_run: datetime) -> None:
        # The message names no current time, so it stays the same while the clock is
        # wrong and the daemon says it once (one log line per change of health).
        super().__init__(
            f"the system clock is behind nurture's last run ({last_run:%Y-%m-%d %H:%M} UTC); "
            "nothing is changed until it is right — set the clock (`timedatectl`, NTP)"
        )
        self.last_run = last_run


class CursorExpired(ConnectorError):
    """The stored cursor is no longer valid; the core drops it and backfills."""


class TaskConflict(ConnectorError):
    """A conditional write failed: the user changed the task since we read it."""


class TaskGone(ConnectorError):
    """The task cannot be written because the user deleted it (e.g. Google's 409)."""
