"""nurture's one error hierarchy.

Every error a user can see says what went wrong and what to do next. A
`UserError` carries a list of problems so that all of them are reported at
once (a rule file with three typos shows three lines, not one).
"""

from __future__ import annotations

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
