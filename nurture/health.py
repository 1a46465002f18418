"""One account's health, mail and calendar alike. Pure: the clock is passed in.

Like Home Assistant's update coordinator, each account keeps whether its last
sync worked, the last failure, and when it last worked, and says one log line
per change of state (not one per failure). The two kinds of failure stay
apart: `TransientError` (and anything unforeseen) means "retry later, with a
growing pause"; `AuthError` means "the user must act": the account pauses,
names the command that fixes it once, and is retried only seldom.

The application keeps one `AccountHealth` per account and stores it for
`nurture status`; the daemon reads it to decide when to try again and what to
log. Nothing here does I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .errors import AuthError, StorageError, TransientError, with_fix

MAIL = "mail sync"
CALENDAR = "calendar"
LONGEST_PROBLEM = 300  # characters of a failure kept for `nurture status`


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a failing account waits before the next try."""

    first: timedelta = timedelta(seconds=30)
    # Capped low: when the network comes back, mail should flow again within minutes.
    most: timedelta = timedelta(minutes=10)
    # A paused account (sign-in refused) is retried this often, silently.
    paused: timedelta = timedelta(hours=1)

    def delay(self, failures: int, jitter: float, retry_after: float | None = None) -> timedelta:
        """Exponential in `failures`, capped at `most`, times `jitter` (0.5 to 1: not every
        client retries at the same instant), never sooner than the server asked."""
        ceiling = min(
            self.most.total_seconds(), self.first.total_seconds() * 2 ** min(failures - 1, 30)
        )
        seconds = ceiling * jitter
        if retry_after is not None:
            seconds = max(seconds, retry_after)
        return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class LogLine:
    """What to log about a change of an account's health."""

    level: int
    text: str
    traceback: bool = False  # an unforeseen failure: the log shows where it came from


@dataclass(frozen=True, slots=True)
class AccountHealth:
    """Whether an account's last sync worked, and what to do when it did not.

    `role` says what the account does for nurture (`MAIL`, `CALENDAR`), for the
    log. `error` is the last failure in the connector's words; `command` what
    fixes a paused account; `problem` the two together, as the user reads them.
    """

    account: str
    role: str = MAIL
    failures: int = 0
    paused: bool = False
    error: str = ""
    command: str = ""
    retry_after: float | None = None
    unexpected: bool = False
    last_try: datetime | None = None
    last_ok: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and not self.paused

    @property
    def problem(self) -> str:
        """The failure and its fix in one line; "" while the account works."""
        return with_fix(self.error, self.command)

    def succeeded(self, now: datetime) -> AccountHealth:
        return replace(
            self,
            failures=0,
            paused=False,
            error="",
            command="",
            retry_after=None,
            unexpected=False,
            last_try=now,
            last_ok=now,
        )

    def failed(self, error: Exception, now: datetime, command: str = "") -> AccountHealth:
        """After `error`. `command` fixes a refused sign-in when the error names none."""
        text = str(error.args[0]) if error.args else ""
        if isinstance(error, AuthError):
            return replace(
                self,
                failures=self.failures + 1,
                paused=True,
                error=(text or "sign-in refused")[:LONGEST_PROBLEM],
                command=error.command or command,
                retry_after=None,
                unexpected=False,
                last_try=now,
            )
        return replace(
            self,
            failures=self.failures + 1,
            paused=False,
            error=(str(error) or type(error).__name__)[:LONGEST_PROBLEM],
            command="",
            retry_after=error.retry_after if isinstance(error, TransientError) else None,
            # a full disk or a read-only folder says what to do: no traceback for it
            unexpected=not isinstance(error, TransientError | StorageError),
            last_try=now,
        )

    def delay(self, backoff: Backoff, jitter: float) -> timedelta:
        """How long until the next try (`jitter` from 0.5 to 1)."""
        if self.paused:
            return backoff.paused
        if self.ok:
            return timedelta(0)
        return backoff.delay(self.failures, jitter, self.retry_after)

    def news(self, before: AccountHealth, delay: timedelta) -> LogLine | None:
        """The log line for going from `before` to this, `delay` before the next try.

        One line when the account first fails, pauses or works again; an
        unforeseen failure also each time it changes; the rest only in debug.
        """
        what = f"{self.account}: {self.role}"
        if self.ok:
            if before.ok:
                return None
            return LogLine(logging.INFO, f"{what} works again")
        if self.paused:
            if before.paused:
                return None
            return LogLine(
                logging.ERROR,
                f"{self.account}: sign-in refused ({self.error}); {self.role} for this account "
                f"is paused until you run `{self.command or 'nurture auth CONNECTOR ACCOUNT'}` "
                "(the other accounts go on)",
            )
        if before.ok or before.paused or (self.unexpected and self.error != before.error):
            return LogLine(
                logging.ERROR if self.unexpected else logging.WARNING,
                f"{what} failed: {self.error}; retrying in {human(delay)}",
                traceback=self.unexpected,
            )
        return LogLine(
            logging.DEBUG,
            f"{self.account}: still failing ({self.failures}): {self.error}; "
            f"next try in {human(delay)}",
        )


def human(delta: timedelta) -> str:
    """A pause as people say it: "45 s", "8 min", "1.5 h", "2 days"."""
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} days".replace(".0 days", " days")
