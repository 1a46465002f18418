"""Time limits for reading one account's mail, so a server that trickles cannot hold a sync.

A socket timeout bounds each read, not a whole exchange: a server that sends one
byte every 20 s never trips a 60 s read timeout, and it kept `nurture sync --once`
alive past 240 s and the daemon's only worker until the 2 h watchdog. Two limits
apply to each account's mail sync, and one to a whole sync:

- `Limits.quiet`: no progress (a batch of mail stored, a batch of bodies read) for this
  long, and the account's connections are cut (`Connector.interrupt`), so the blocked
  read fails at once; the account then backs off like any transient failure;
- `Limits.account`: after this long the account stops after its current batch, healthy
  (each batch is a checkpoint: the next sync goes on from there);
- `Limits.sync`: a sync that has run this long starts no further account.

A first sync of a big mailbox stores a batch every few seconds, so it never trips
`quiet`; `account` only makes it share the worker with the other accounts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType

from .errors import TransientError


@dataclass(frozen=True, slots=True)
class Limits:
    """How long one account's mail sync, and one whole sync, may take; how long a change
    to the ledger and the calendar waits for another one to end (`lock.WriteLock`)."""

    quiet: timedelta = timedelta(minutes=3)
    account: timedelta = timedelta(minutes=15)
    sync: timedelta = timedelta(minutes=30)
    writer: timedelta = timedelta(seconds=30)


class TooSlow(TransientError):
    """The server made no progress for `Limits.quiet`: its connection was cut."""

    def __init__(self, account: str, quiet: timedelta) -> None:
        seconds = int(quiet.total_seconds())
        super().__init__(
            f"{account}: no progress from the server for {seconds} s (it answers too "
            "slowly, or not at all); the connection was cut and the other accounts go on"
        )


class Watch:
    """Calls `interrupt` each time `alive` has not been called for `quiet` seconds.

    Again and again, not once: a connector may retry on a new connection (a kept one
    that broke is replaced once), and the new one may trickle too. Used as a context
    manager around one account's sync: a daemon thread waits beside the sync and does
    nothing else. `spent` says when `budget` seconds have passed since the start, for
    the sync to stop between batches.
    """

    def __init__(
        self,
        quiet: float,
        budget: float,
        interrupt: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet = quiet
        self.budget = budget
        self._interrupt = interrupt
        self._clock = clock
        self._started = self._last = clock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = False

    def alive(self) -> None:
        """Progress: the quiet time starts again."""
        self._last = self._clock()

    @property
    def spent(self) -> bool:
        return self._clock() - self._started >= self.budget

    def _wait(self) -> None:
        while not self._done.wait(min(1.0, self.quiet / 4)):
            if self._clock() - self._last >= self.quiet:
                self.fired = True
                self._last = self._clock()
                self._interrupt()

    def __enter__(self) -> Watch:
        self._started = self._last = self._clock()
        self._thread = threading.Thread(target=self._wait, name="nurture-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
