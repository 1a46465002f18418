"""Scheduler plumbing for the daemon: the clock, the whole-minute trigger, the executors.

`nurture.daemon` decides what runs when; this module is how APScheduler runs it:

- `Clock`: wall and monotonic time, with the test hook that simulates a suspend
  (``$NURTURE_TEST_CLOCK_OFFSET_FILE`` names a file of seconds to add to the wall clock);
- `GridTrigger`: intervals anchored to whole minutes, so jobs fall due together;
- `InlineExecutor`: runs the cheap tick in the scheduler's own thread;
- `SerialExecutor`: one worker thread for every call into the App, in order.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.job import Job
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

# Interval triggers start from here, so that every interval that is a whole
# number of minutes fires on whole minutes, together with the others.
ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)

CLOCK_OFFSET_ENV = "NURTURE_TEST_CLOCK_OFFSET_FILE"


class Clock:
    """Wall and monotonic time, with the test hook that simulates a suspend."""

    def __init__(self, offset_file: str | None = None) -> None:
        self._offset_file = Path(offset_file) if offset_file else None

    @classmethod
    def from_environment(cls) -> Clock:
        return cls(os.environ.get(CLOCK_OFFSET_ENV) or None)

    def offset(self) -> float:
        if self._offset_file is None:
            return 0.0
        try:
            return float(self._offset_file.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset(), UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class GridTrigger(IntervalTrigger):
    """Fires only at ``ANCHOR + k * interval``, also after a run that was moved off the grid.

    APScheduler's interval trigger counts on from the last run, so a single run
    out of turn (at start, right after new mail, after a backoff, after a resume)
    would shift a job off the whole minutes for good and cost an extra wake-up.
    """

    def __init__(self, interval: timedelta) -> None:
        super().__init__(seconds=interval.total_seconds(), start_date=ANCHOR, timezone=UTC)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            return super().get_next_fire_time(None, now)
        # the first grid point strictly after the previous run
        return super().get_next_fire_time(None, previous_fire_time + timedelta(microseconds=1))


class InlineExecutor(BaseExecutor):
    """Runs a job right in the scheduler's thread. Only for the tick, which is cheap."""

    def submit_job(self, job: Job, run_times: list[datetime]) -> None:
        events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
        assert self._scheduler is not None
        for event in events:
            self._scheduler._dispatch_event(event)

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:  # pragma: no cover
        raise NotImplementedError("InlineExecutor runs jobs in submit_job")


class SerialExecutor(BaseExecutor):
    """One worker thread that runs scheduled jobs and plain calls, in order.

    `call` runs any function on the worker (loading and closing the App);
    `busy_for` tells the tick how long the current item has been running;
    `drain` is the clean stop: drop what is queued, let the running item end,
    run a last function, and give up after a timeout.
    """

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._busy_since: float | None = None
        self._busy_name = ""
        self._closed = False
        self._pending = 0
        self._state_lock = threading.Lock()

    def _ensure_thread(self) -> None:
        with self._state_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="nurture-worker", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._closed and not getattr(item, "_final", False):
                with self._state_lock:
                    self._pending -= 1
                continue
            try:
                item()
            except Exception:  # the worker must outlive any one item
                log.exception("internal error in the worker")

    def _enqueue(self, name: str, fn: Callable[[], None]) -> None:
        def run() -> None:
            self._busy_since, self._busy_name = time.monotonic(), name
            try:
                fn()
            finally:
                self._busy_since, self._busy_name = None, ""
                with self._state_lock:
                    self._pending -= 1

        run._final = getattr(fn, "_final", False)  # type: ignore[attr-defined]
        self._ensure_thread()
        with self._state_lock:
            self._pending += 1
        self._queue.put(run)

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing running (skipped items count as done)."""
        with self._state_lock:
            return self._pending == 0

    def call(self, fn: Callable[[], Any], name: str = "call") -> Future[Any]:
        """Run `fn` on the worker after what is queued; its result arrives in the future."""
        future: Future[Any] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn())
            except BaseException as error:
                future.set_exception(error)

        self._enqueue(name, run)
        return future

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def run() -> None:
            try:
                events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException as error:
                self._run_job_error(job.id, error, error.__traceback__)
            else:
                self._run_job_success(job.id, events)

        self._enqueue(job.id, run)

    def busy_for(self) -> tuple[str, float] | None:
        """(what, seconds) of the item running now, or None when idle."""
        since, name = self._busy_since, self._busy_name
        if since is None:
            return None
        return name, time.monotonic() - since

    def shutdown(self, wait: bool = True) -> None:
        # The scheduler calls this on shutdown; the daemon stops us with drain().
        pass

    def drain(self, last: Callable[[], None], timeout: float) -> bool:
        """Skip queued items, run `last` after the running one; False if time ran out."""
        self._closed = True
        done = threading.Event()

        def final() -> None:
            try:
                last()
            finally:
                done.set()

        final._final = True  # type: ignore[attr-defined]
        self._enqueue("stop", final)
        self._queue.put(None)
        return done.wait(timeout)
