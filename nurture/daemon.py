"""`nurture run`: the scheduler that keeps the calendar current, quietly.

Jobs (APScheduler 3.x, in-memory job store rebuilt from config at every start;
the real state lives in nurture's SQLite):

- ``sync:<account>`` — ingest and analyse one account's mail (default every 5 min);
- ``reconcile`` — detect, apply rules, plan and write the calendar (every 15 min,
  and right after a mail sync that changed something);
- ``reconnect`` — the daily reconnect scan (a reconcile at a fixed local hour);
- ``tick`` — cheap: notices a resume from suspend, checks the rule files, pings
  the watchdog.

Threads, and why:

- Every call into the `App` runs on ONE worker thread (`SerialExecutor`, in
  nurture/jobs.py with the other scheduler plumbing), the
  load and close included: SQLite connections belong to the thread that opened
  them, and serial jobs cannot step on each other's transactions.
- The tick runs inline in the scheduler's own thread (`InlineExecutor`). It is
  therefore proof that the scheduler loop turns, and it can see a worker that
  hangs; WATCHDOG=1 is sent only when both are true.
- The main thread blocks SIGTERM/SIGINT/SIGHUP and waits for them with
  `sigwait`: no Python signal handler ever runs in the middle of a job.

Wake-ups: all intervals are anchored to whole minutes (UTC), so the tick, the
syncs and the reconcile fall due together and an idle daemon wakes once a
minute.

Suspend: APScheduler's timers wait on the monotonic clock, which stops while the
machine sleeps, so after a resume the next wake-up can come late by the time
that was left. The tick (at most a minute away) compares how far the wall
clock and the monotonic clock moved; a jump means a resume (or a clock step),
and every job whose time has come runs at once, backed-off accounts included.
For tests, ``$NURTURE_TEST_CLOCK_OFFSET_FILE`` names a file holding seconds
to add to the wall clock: writing 3600 into it looks exactly like an hour of
sleep.
"""

from __future__ import annotations

import logging
import random
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from . import __version__
from .errors import Problem, TransientError, UserError
from .health import CALENDAR, AccountHealth, Backoff, human
from .jobs import Clock, GridTrigger, InlineExecutor, SerialExecutor
from .notify import Notifier

if TYPE_CHECKING:
    from .app import SyncReport
    from .apply import ApplyReport

log = logging.getLogger(__name__)


class AppLike(Protocol):
    """What the daemon needs from `nurture.app.App` (see that class for the meaning)."""

    def mail_accounts(self) -> list[str]: ...
    def sync_all(
        self,
        now: datetime | None = None,
        *,
        dry_run: bool = False,
        accounts: Sequence[str] | None = None,
        reconcile: bool = True,
    ) -> SyncReport: ...
    def reconcile(self, now: datetime, dry_run: bool = False) -> ApplyReport: ...
    def reload_rules(self) -> list[Problem]: ...
    def rules_changed(self) -> bool: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Settings:
    """How often the daemon does what. Defaults suit a laptop; tests shorten them."""

    sync_every: timedelta = timedelta(minutes=5)
    reconcile_every: timedelta = timedelta(minutes=15)
    tick_every: timedelta = timedelta(minutes=1)
    reconnect_at: dtime = dtime(7, 0)
    # A laptop shut for a long weekend still runs each job once (coalesced) on wake.
    misfire_grace: timedelta = timedelta(days=7)
    backoff_first: timedelta = timedelta(seconds=30)
    # Capped low: when the network comes back, mail should flow again within minutes.
    backoff_max: timedelta = timedelta(minutes=10)
    # A paused account (sign-in refused) is retried this often, silently.
    auth_retry_every: timedelta = timedelta(hours=1)
    # A job running longer than this is hung: the watchdog is let go to restart us.
    hang_after: timedelta = timedelta(hours=2)
    # What a clock jump must exceed to count as a resume.
    jump_threshold: timedelta = timedelta(seconds=30)
    # How long SIGTERM waits for a running job (the unit's TimeoutStopSec is 30 s).
    stop_timeout: timedelta = timedelta(seconds=20)

    @property
    def backoff(self) -> Backoff:
        return Backoff(self.backoff_first, self.backoff_max, self.auth_retry_every)

    def effective_tick(self, watchdog_interval: float | None) -> float:
        """The tick in seconds: no slower than the watchdog needs its pings."""
        tick = self.tick_every.total_seconds()
        if watchdog_interval is not None:
            tick = min(tick, watchdog_interval)
        return max(tick, 0.2)


@dataclass(slots=True)
class _Status:
    last_sync: datetime | None = None
    last_reconcile: datetime | None = None
    last_report: str = ""
    pending: dict[str, int] = field(default_factory=dict)


class Daemon:
    """Drives the App on a schedule; see the module docstring for the design.

    `load_app` builds the App (called on the worker at start and on every
    reload, so a reload re-reads config.toml too). `settings_from_app` may
    turn the loaded App's configuration into `Settings`; explicit `settings`
    fields given by the caller (the command line) win over it.
    """

    def __init__(
        self,
        load_app: Callable[[], AppLike],
        settings: Settings | None = None,
        *,
        overrides: dict[str, Any] | None = None,
        settings_from_app: Callable[[AppLike, Settings], Settings] | None = None,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._load_app = load_app
        self._base_settings = settings or Settings()
        self._overrides = dict(overrides or {})
        self._settings_from_app = settings_from_app
        self.settings = replace(self._base_settings, **self._overrides)
        self.notifier = notifier or Notifier(None)
        self.clock = clock or Clock()
        self._rng = rng or random.Random()
        self.worker = SerialExecutor()
        self.app: AppLike | None = None
        self.accounts: dict[str, AccountHealth] = {}  # mail accounts, as the last sync left them
        self._status = _Status()
        self._rule_problems: set[str] = set()
        self._rules_reload_queued = False
        # the reconcile's health: reading and writing the calendar, and all before it
        self._calendar = AccountHealth("reconcile", CALENDAR)
        self._config_problems: tuple[str, ...] = ()
        self._last_clock: tuple[float, float] | None = None
        self._hang_reported = False
        self._last_progress = 0.0
        self._stopping = False
        self.stopped_cleanly = True
        self.watchdog_pings = 0
        self.resumes = 0
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": self.worker, "inline": InlineExecutor()},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.settings.misfire_grace.total_seconds()),
            },
        )
        self.scheduler.add_listener(
            self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Load the App (raises `UserError`), schedule every job, start, and say READY."""
        self.worker.call(self._load_first, "load").result()
        # Asked of the App before any job is queued, so it is said at once, not after a
        # first sync of a large mailbox.
        accounts, target = self.worker.call(self._describe_app, "describe").result()
        for line in self._plan_lines(accounts, target):  # before any job can log
            log.info("%s", line)
        self.scheduler.start()
        self.notifier.ready(self.status_text())
        log.debug("nurture is running: %s", self.status_text())

    def reload(self) -> Future[Any]:
        """Re-read config.toml and the rules (SIGHUP); the old ones stay if the new are bad."""
        return self._call_logged(self._reload, "reload")

    def _call_logged(self, fn: Callable[[], Any], name: str) -> Future[Any]:
        """Run `fn` on the worker; nobody waits for it, so its failure is logged here."""
        future = self.worker.call(fn, name)

        def report(done: Future[Any]) -> None:
            error = done.exception() if not done.cancelled() else None
            if error is not None:
                log.error("%s failed: %s", name, error, exc_info=error)

        future.add_done_callback(report)
        return future

    def stop(self) -> bool:
        """Stop cleanly: no new jobs, let the running one finish, close the App.

        True when everything ended within `Settings.stop_timeout`. Each mail
        batch is its own transaction, so even a job cut short leaves a
        consistent state.
        """
        self._stopping = True
        self.notifier.stopping("stopping")
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        clean = self.worker.drain(self._close_app, self.settings.stop_timeout.total_seconds())
        self.stopped_cleanly = clean
        if not clean:
            busy = self.worker.busy_for()
            what = busy[0] if busy else "a job"
            log.warning("%s did not finish in time; exiting anyway (state is checkpointed)", what)
        self.notifier.close()
        log.debug("stopped%s", "" if clean else " (a job was still running)")
        return clean

    def serve(self) -> int:
        """Run until SIGTERM or SIGINT (SIGHUP reloads); the exit status for `nurture run`.

        Must run in the main thread, before any other thread exists, so that
        every thread inherits the blocked signal mask.
        """
        signals = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        try:
            self.start()
            while True:
                received = signal.sigwait(signals)
                if received == signal.SIGHUP:
                    log.debug("SIGHUP: reloading configuration and rules")
                    self.reload()
                    continue
                log.debug("%s: stopping", signal.Signals(received).name)
                break
            self.stop()
            return 0
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    # ------------------------------------------------------------------ loading

    def _load_first(self) -> None:
        app = self._load_app()
        self._install(app)

    def _install(self, app: AppLike) -> None:
        """Make `app` current and rebuild the job store from its configuration."""
        self.app = app
        if hasattr(app, "progress"):
            # Each committed batch of a long first sync counts as progress for the watchdog.
            app.progress = self._on_progress
        if self._settings_from_app is not None:
            base = self._settings_from_app(app, self._base_settings)
            self.settings = replace(base, **self._overrides)
        accounts = list(app.mail_accounts())
        # A new App starts with every account healthy: a paused one is tried again at once.
        self.accounts = {name: AccountHealth(name) for name in accounts}
        self._schedule_jobs(accounts)

    def _schedule_jobs(self, accounts: list[str]) -> None:
        s = self.settings
        now = datetime.now(UTC)
        tick = self.settings.effective_tick(self.notifier.watchdog_interval)
        for job in self.scheduler.get_jobs():
            job.remove()
        self.scheduler.add_job(
            self._tick,
            GridTrigger(timedelta(seconds=tick)),
            id="tick",
            name="tick",
            executor="inline",
            misfire_grace_time=None,
        )
        for account in accounts:
            self.scheduler.add_job(
                self._sync,
                GridTrigger(s.sync_every),
                args=(account,),
                id=f"sync:{account}",
                name=f"mail sync {account}",
                next_run_time=now,
            )
        self.scheduler.add_job(
            self._reconcile,
            GridTrigger(s.reconcile_every),
            args=("interval",),
            id="reconcile",
            name="calendar reconcile",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self._reconcile,
            CronTrigger(hour=s.reconnect_at.hour, minute=s.reconnect_at.minute, timezone=_local()),
            args=("daily reconnect scan",),
            id="reconnect",
            name="daily reconnect scan",
        )

    def _reload(self) -> None:
        self.notifier.reloading()
        try:
            app = self._load_app()
        except UserError as error:
            problems = tuple(str(p) for p in error.problems) or (str(error),)
            if problems != self._config_problems:
                log.error("reload failed, keeping the running configuration: %s", error.args[0])
                for problem in error.problems:
                    log.error("  %s", problem)
            self._config_problems = problems
            self.notifier.ready(self.status_text())
            return
        except Exception as error:
            # e.g. the state folder became unreadable: the running App still works.
            log.error("reload failed, keeping the running configuration: %s", error, exc_info=error)
            self.notifier.ready(self.status_text())
            return
        self._config_problems = ()
        old = self.app
        self._rule_problems.clear()
        self._install(app)
        if old is not None:
            try:
                old.close()
            except Exception as error:
                log.warning("closing the previous configuration: %s", error)
        count = len(self.accounts)
        log.info(
            "reloaded configuration and rules (%d mail account%s)", count, "" if count == 1 else "s"
        )
        self.notifier.ready(self.status_text())

    def _describe_app(self) -> tuple[str, str]:
        """The accounts with their connectors, and where tasks go (on the worker)."""
        app = self.app
        config = getattr(app, "config", None)
        if config is None:  # an App without its configuration to show (tests)
            return ", ".join(self.accounts), ""
        accounts = ", ".join(f"{a.name} ({a.connector})" for a in config.accounts)
        try:
            name, _ = app.target()  # type: ignore[union-attr]
        except Exception as error:  # no writable calendar: each reconcile will say why
            return accounts, f"no calendar to write tasks to yet: {error}"
        options = config.account(name).options
        where = options.get("calendar") or options.get("url") or ""
        return accounts, f"tasks go to the calendar of {name}" + (f": {where}" if where else "")

    def _plan_lines(self, accounts: str, target: str) -> list[str]:
        """What the daemon is about to do, said once at start: the accounts, how often
        each job runs and when next, and where tasks go."""
        s = self.settings
        scan = self.scheduler.get_job("reconnect")
        scan_next = scan.trigger.get_next_fire_time(None, datetime.now(UTC)) if scan else None
        lines = [
            f"nurture {__version__} started: accounts {accounts or 'none'}",
            f"mail every {human(s.sync_every)} and the calendar every "
            f"{human(s.reconcile_every)}, both starting now; the keep-in-touch scan daily at "
            f"{s.reconnect_at:%H:%M}"
            + (f", next {scan_next.astimezone(_local()):%a %d %b %H:%M}" if scan_next else ""),
        ]
        return [*lines, target] if target else lines

    def _close_app(self) -> None:
        if self.app is not None:
            try:
                self.app.close()
            finally:
                self.app = None

    # ------------------------------------------------------------------ jobs

    def _sync(self, account: str) -> None:
        app = self.app
        if app is None or account not in self.accounts or self._stopping:
            return
        (result,) = app.sync_all(self.clock.now(), accounts=[account], reconcile=False).mail
        health = self.accounts[account] = result.health
        delay = health.delay(self.settings.backoff, self._rng.uniform(0.5, 1.0))
        news = health.news(result.before, delay)
        if news is not None:
            log.log(news.level, "%s", news.text, exc_info=result.error if news.traceback else None)
        if not health.ok:
            self._reschedule(f"sync:{account}", datetime.now(UTC) + delay)
            self.notifier.status(self.status_text())
            return
        self._status.last_sync = health.last_ok
        if result.changes:
            log.debug("%s: %d messages changed", account, result.changes)
            self._status.pending[account] = self._status.pending.get(account, 0) + result.changes
            self._run_soon("reconcile")
        self.notifier.status(self.status_text())

    def _reconcile(self, reason: str) -> None:
        app = self.app
        if app is None or self._stopping:
            return
        now = self.clock.now()
        before = self._calendar
        try:
            report = app.reconcile(now)
        except Exception as error:  # AuthError, TransientError or anything from a connector
            self._reconcile_failed(before, error, now)
            return
        self._calendar = before.succeeded(now)
        if (news := self._calendar.news(before, timedelta(0))) is not None:
            log.log(news.level, "%s", news.text)
        pending, self._status.pending = self._status.pending, {}
        self._status.last_reconcile = now
        self._status.last_report = report.summary()
        if report.changed:  # the user's deletes and completions count too
            mail = ", ".join(f"{a}: {n}" for a, n in sorted(pending.items()))
            total = sum(pending.values())
            noun = "message" if total == 1 else "messages"
            lead = f"{total} changed {noun} ({mail}); " if pending else ""
            log.info("%s%s", lead, self._status.last_report)
        else:
            log.debug("reconcile (%s): nothing to change", reason)
        self.notifier.status(self.status_text())

    def _reconcile_failed(self, before: AccountHealth, error: Exception, now: datetime) -> None:
        """Judge a failed reconcile as an account's sync is judged (`AccountHealth`): one
        log line when it starts failing, pauses or fails differently. A passing fault is
        retried with the backoff; anything else on the next cycle (a refused sign-in too:
        the calendar is read and written every cycle, and its fix is the user's)."""
        health = self._calendar = before.failed(error, now)
        delay = (
            self.settings.backoff.delay(
                health.failures, self._rng.uniform(0.5, 1.0), error.retry_after
            )
            if isinstance(error, TransientError)
            else self.settings.reconcile_every
        )
        news = health.news(before, delay)
        if news is not None:
            log.log(news.level, "%s", news.text, exc_info=error if news.traceback else None)
        if isinstance(error, TransientError):
            self._reschedule("reconcile", datetime.now(UTC) + delay)

    # ------------------------------------------------------------------ the tick

    def _tick(self) -> None:
        """Cheap, once a minute, in the scheduler thread: resume, rules, watchdog."""
        if self._stopping:
            return
        self._check_clock()
        self._check_rules()
        if self._making_progress() and self.notifier.watchdog_interval is not None:
            self.watchdog_pings += 1
            self.notifier.watchdog()

    def _check_clock(self) -> None:
        wall, mono = self.clock.now().timestamp(), self.clock.monotonic()
        last, self._last_clock = self._last_clock, (wall, mono)
        if last is None:
            return
        jump = (wall - last[0]) - (mono - last[1])
        if jump > self.settings.jump_threshold.total_seconds():
            self.resumes += 1
            log.info(
                "woke up after %s (suspend or clock change); running what is due now",
                human(timedelta(seconds=jump)),
            )
            self.run_due_now()
        elif jump < -self.settings.jump_threshold.total_seconds():
            log.debug("the wall clock went back by %s", human(timedelta(seconds=-jump)))

    def run_due_now(self) -> None:
        """Run at once every mail sync, and every other job whose time has come (after a resume).

        Mail arrived while the machine slept, and accounts that were backing off
        may have their network back; paused accounts (sign-in refused) stay paused.
        """
        virtual_now = self.clock.now()
        real_now = datetime.now(UTC)
        for job in self.scheduler.get_jobs():
            if job.id == "tick" or job.next_run_time is None:
                continue
            if job.next_run_time <= virtual_now or job.id.startswith("sync:"):
                account = job.id.partition(":")[2]
                state = self.accounts.get(account)
                if state is not None and state.paused:
                    continue
                job.modify(next_run_time=real_now)

    def _check_rules(self) -> None:
        app = self.app
        if app is None or self._rules_reload_queued:
            return
        try:
            changed = app.rules_changed()
        except Exception as error:
            log.debug("cannot check the rule files: %s", error)
            return
        if changed:
            self._rules_reload_queued = True
            self._call_logged(self._reload_rules, "reloading the rules")

    def _reload_rules(self) -> None:
        self._rules_reload_queued = False
        app = self.app
        if app is None:
            return
        problems = [str(p) for p in app.reload_rules()]
        if problems:
            new = [p for p in problems if p not in self._rule_problems]
            if new:
                log.error(
                    "the rule files have %d problem%s; keeping the last good rules until fixed:",
                    len(problems),
                    "" if len(problems) == 1 else "s",
                )
                for problem in new:
                    log.error("  %s", problem)
            self._rule_problems = set(problems)
            self.notifier.status(self.status_text())
            return
        if self._rule_problems:
            log.info("the rule files are fixed; new rules applied")
        else:
            log.info("rule files changed; new rules applied")
        self._rule_problems = set()
        self._run_soon("reconcile")

    def _on_progress(self, done: int, total: int | None) -> None:
        self._last_progress = time.monotonic()

    def _making_progress(self) -> bool:
        """False when the running job has done nothing visible for `hang_after`.

        A job counts from its start, or from the last batch it committed.
        """
        busy = self.worker.busy_for()
        if busy is not None:
            stalled = min(busy[1], time.monotonic() - self._last_progress)
            if stalled >= self.settings.hang_after.total_seconds():
                if not self._hang_reported:
                    self._hang_reported = True
                    log.error(
                        "%s has made no progress for %s; it looks stuck, so the watchdog "
                        "will restart nurture",
                        busy[0],
                        human(timedelta(seconds=stalled)),
                    )
                return False
        self._hang_reported = False
        return True

    # ------------------------------------------------------------------ helpers

    def _run_soon(self, job_id: str) -> None:
        self._reschedule(job_id, datetime.now(UTC))

    def _reschedule(self, job_id: str, when: datetime) -> None:
        job = self.scheduler.get_job(job_id)
        if job is not None and not self._stopping:
            job.modify(next_run_time=when)

    def _on_job_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its time; it runs on the next occasion", event.job_id)
        elif event.code == EVENT_JOB_ERROR and isinstance(event, JobExecutionEvent):
            log.error("job %s failed: %s\n%s", event.job_id, event.exception, event.traceback)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.debug("job %s is still queued or running; this run is skipped", event.job_id)

    def status_text(self) -> str:
        """The one line `systemctl --user status nurture` shows."""
        parts = []
        if self._status.last_sync is not None:
            parts.append(f"last sync {_clock(self._status.last_sync)}")
        ok = sum(1 for s in self.accounts.values() if not s.paused and not s.failures)
        paused = [a for a, s in self.accounts.items() if s.paused]
        failing = [a for a, s in self.accounts.items() if s.failures and not s.paused]
        accounts = f"{ok} account{'s' if ok != 1 else ''} ok"
        if failing:
            accounts += f", retrying {', '.join(failing)}"
        if paused:
            accounts += f", paused {', '.join(paused)} (nurture auth)"
        parts.append(accounts)
        if self._status.last_reconcile is not None:
            parts.append(
                f"calendar {_clock(self._status.last_reconcile)}: " f"{self._status.last_report}"
            )
        if self._rule_problems:
            parts.append(
                f"rule files have {len(self._rule_problems)} problems (nurture rules check)"
            )
        return "; ".join(parts)


def _local() -> Any:
    from tzlocal import get_localzone

    return get_localzone()


def _clock(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M UTC")


def settings_from_app(app: AppLike, base: Settings) -> Settings:
    """The intervals of ``[daemon]`` in config.toml, when the App exposes its config."""
    config = getattr(app, "config", None)
    if config is None:
        return base
    changes: dict[str, Any] = {}
    for ours, theirs in (("sync_every", "mail_every"), ("reconcile_every", "reconcile_every")):
        value = getattr(config, theirs, None)
        if isinstance(value, timedelta) and value > timedelta(0):
            changes[ours] = value
    return replace(base, **changes)
