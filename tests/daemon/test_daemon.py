"""The scheduler around the App: jobs, isolation, backoff, reloads, watchdog, suspend, stop."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nurture.config import Account, Config
from nurture.daemon import Daemon, Settings, settings_from_app
from nurture.errors import AuthError, Problem, TransientError, UserError
from nurture.health import AccountHealth
from nurture.jobs import GridTrigger

from .conftest import FAST, FakeApp, NotifyListener, OffsetClock, Report, wait_for

MakeDaemon = Callable[..., Daemon]


def idle(daemon: Daemon) -> bool:
    """Nothing queued or running on the worker (a finished job has released its instance)."""
    return daemon.worker.idle


def run_now(daemon: Daemon, job_id: str) -> None:
    """Run `job_id` at once, after the worker is idle (else max_instances skips it)."""
    wait_for(lambda: idle(daemon), what="an idle worker")
    daemon.scheduler.get_job(job_id).modify(next_run_time=datetime.now(UTC))


def test_start_syncs_every_account_then_reconciles_and_says_ready(
    make_daemon: MakeDaemon, listener: NotifyListener
) -> None:
    app = FakeApp(changes=2)
    daemon = make_daemon(app)
    daemon.start()
    wait_for(lambda: listener.count("READY=1") == 1, what="READY=1")
    wait_for(lambda: app.count("sync", "work") and app.count("sync", "home"), what="both syncs")
    wait_for(lambda: app.count("reconcile") >= 1, what="a reconcile")
    # Every call into the App ran on the one worker thread, the load included.
    assert app.threads == {"nurture-worker"}
    wait_for(lambda: any("last sync" in s for s in listener.statuses()), what="STATUS")


def test_a_sync_with_changes_triggers_a_reconcile_right_away(make_daemon: MakeDaemon) -> None:
    app = FakeApp(accounts=["work"], script={"work": [0]})
    daemon = make_daemon(app)
    daemon.start()
    wait_for(lambda: app.count("reconcile") == 1, what="the first reconcile")
    wait_for(lambda: app.count("sync") == 1 and idle(daemon), what="the first cycle to end")
    before = app.count("reconcile")
    app.script["work"] = [3]
    run_now(daemon, "sync:work")
    wait_for(lambda: app.count("reconcile") > before, what="a reconcile after changes")


def test_transient_error_backs_off_honouring_retry_after_and_others_go_on(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    app = FakeApp(script={"work": [TransientError("server busy", retry_after=600)]})
    daemon = make_daemon(app)
    with caplog.at_level(logging.DEBUG, logger="nurture"):
        daemon.start()
        wait_for(lambda: app.count("sync", "home") >= 1, what="home sync")
        wait_for(lambda: app.count("sync", "work") == 1 and idle(daemon), what="the failure")
    # exactly the server's 600 s (the 0.1–0.2 s backoff is shorter), not the next interval
    failed_at = app.sync_times[[a for a, _ in app.sync_times].index("work")][1]
    next_run = daemon.scheduler.get_job("sync:work").next_run_time
    assert timedelta(seconds=600) <= next_run - failed_at <= timedelta(seconds=610)
    assert daemon.accounts["work"].failures == 1
    assert daemon.accounts["home"].failures == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "work" in r.message]
    assert len(warnings) == 1 and "server busy" in warnings[0].message
    assert ("work", False, "server busy", False) in app.statuses


def test_repeated_transient_errors_log_once_then_recover(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    down = [TransientError("network unreachable") for _ in range(3)]
    app = FakeApp(accounts=["work"], script={"work": [*down, 0]})
    daemon = make_daemon(app)
    with caplog.at_level(logging.DEBUG, logger="nurture"):
        daemon.start()
        wait_for(lambda: app.count("sync", "work") >= 4, what="four sync attempts")
        wait_for(lambda: daemon.accounts["work"].failures == 0, what="recovery")
    messages = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("network unreachable" in m for m in messages) == 1
    assert any("works again" in r.message for r in caplog.records if r.levelno == logging.INFO)
    assert app.statuses[-1] == ("work", True, "", False)  # `nurture status` sees it recovered


def test_backoff_grows_with_jitter_and_respects_the_cap() -> None:
    settings = Settings(backoff_first=timedelta(seconds=10), backoff_max=timedelta(seconds=100))
    backoff = settings.backoff
    for n in range(1, 8):
        ceiling = min(100, 10 * 2 ** (n - 1))
        assert backoff.delay(n, 0.5).total_seconds() == ceiling / 2
        assert backoff.delay(n, 1.0).total_seconds() == ceiling
    assert backoff.delay(1, 0.5, retry_after=500).total_seconds() == 500
    # the daemon draws the jitter: not every client retries at the same instant
    daemon = Daemon(lambda: FakeApp(), settings)
    failing = AccountHealth("work", failures=3, error="down")
    spread = {failing.delay(backoff, daemon._rng.uniform(0.5, 1.0)) for _ in range(20)}
    assert len(spread) > 1


def test_auth_error_pauses_only_that_account_with_one_line_naming_the_command(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture, listener: NotifyListener
) -> None:
    refused = [AuthError("token expired", command="nurture auth work") for _ in range(3)]
    app = FakeApp(script={"work": refused}, changes=0)
    daemon = make_daemon(app)
    with caplog.at_level(logging.DEBUG, logger="nurture"):
        daemon.start()
        # auth_retry_every is 0.3 s in FAST: three refusals come in quickly
        wait_for(lambda: app.count("sync", "work") >= 3, what="retries of the paused account")
        wait_for(lambda: app.count("sync", "home") >= 1, what="home sync")
    lines = [r.message for r in caplog.records if "nurture auth work" in r.message]
    assert len(lines) == 1
    assert daemon.accounts["work"].paused
    assert ("work", False, "token expired — run `nurture auth work`", True) in app.statuses
    assert any("paused work" in s for s in listener.statuses())


def test_unexpected_error_is_logged_once_with_traceback_and_retried(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    app = FakeApp(accounts=["work"], script={"work": [KeyError("x"), KeyError("x"), 1]})
    daemon = make_daemon(app)
    with caplog.at_level(logging.DEBUG, logger="nurture"):
        daemon.start()
        wait_for(lambda: daemon.accounts["work"].last_ok is not None, what="eventual success")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None


def test_broken_rules_are_reported_once_and_fixed_rules_applied(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    problem = Problem("rules/tiers.toml:3", "unknown key 'cadance'", "did you mean 'cadence'?")
    app = FakeApp(accounts=["work"], rule_problems=[problem])
    daemon = make_daemon(app)
    with caplog.at_level(logging.DEBUG, logger="nurture"):
        daemon.start()
        wait_for(lambda: app.count("reconcile") >= 1, what="first reconcile")
        app.rules_dirty = True
        wait_for(lambda: app.reloads == 1, what="rules reload")
        app.rules_dirty = True  # the user saves again, still broken
        wait_for(lambda: app.reloads == 2, what="second rules reload")
        assert sum("cadance" in r.message for r in caplog.records) == 1
        before = app.count("reconcile")
        app.rule_problems = []
        app.rules_dirty = True
        wait_for(lambda: app.reloads == 3, what="third rules reload")
        wait_for(lambda: app.count("reconcile") > before, what="reconcile with fixed rules")
    assert any("fixed" in r.message for r in caplog.records)


def test_reload_swaps_the_app_and_keeps_the_old_one_on_a_bad_config(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = FakeApp(accounts=["work"]), FakeApp(accounts=["work", "new"])
    loads: list[object] = [first, UserError("config.toml has 1 problem", [Problem("x:1", "bad")])]
    loads.append(second)

    def load() -> FakeApp:
        outcome = loads.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, FakeApp)
        return outcome

    daemon = make_daemon(load)
    with caplog.at_level(logging.DEBUG, logger="nurture"):
        daemon.start()
        daemon.reload().result(timeout=10)
        assert daemon.app is first and not first.closed
        assert any("keeping the running configuration" in r.message for r in caplog.records)
        daemon.reload().result(timeout=10)
    assert daemon.app is second and first.closed
    assert daemon.scheduler.get_job("sync:new") is not None
    wait_for(lambda: second.count("sync", "new") >= 1, what="sync of the new account")


def test_settings_come_from_config_unless_given_on_the_command_line() -> None:
    class Config:
        mail_every = timedelta(minutes=2)
        reconcile_every = timedelta(minutes=10)

    app = FakeApp()
    app.config = Config()  # type: ignore[attr-defined]
    settings = settings_from_app(app, Settings())
    assert settings.sync_every == timedelta(minutes=2)
    assert settings.reconcile_every == timedelta(minutes=10)
    daemon = Daemon(
        lambda: app,
        Settings(),
        overrides={"sync_every": timedelta(seconds=7)},
        settings_from_app=settings_from_app,
    )
    daemon.worker.call(daemon._load_first).result(timeout=10)
    assert daemon.settings.sync_every == timedelta(seconds=7)
    assert daemon.settings.reconcile_every == timedelta(minutes=10)
    daemon.stop()


def test_watchdog_pings_while_progressing_and_stop_when_a_job_hangs(
    make_daemon: MakeDaemon, listener: NotifyListener, caplog: pytest.LogCaptureFixture
) -> None:
    app = FakeApp(accounts=["work"])
    settings = replace(FAST, hang_after=timedelta(seconds=1))
    daemon = make_daemon(app, settings, watchdog_usec=400_000)  # pings every 0.2 s
    daemon.start()
    wait_for(lambda: listener.count("WATCHDOG=1") >= 3, what="watchdog pings")
    app.block = threading.Event()
    with caplog.at_level(logging.ERROR, logger="nurture"):
        run_now(daemon, "sync:work")
        wait_for(lambda: any("looks stuck" in r.message for r in caplog.records), what="hang")
        pings = listener.count("WATCHDOG=1")
        # ticks go on while the job hangs, and none of them pings
        ticks = daemon.resumes, app.count("rules_changed")
        wait_for(lambda: app.count("rules_changed") >= ticks[1] + 3, what="more ticks")
        assert listener.count("WATCHDOG=1") == pings
    app.block.set()
    wait_for(lambda: listener.count("WATCHDOG=1") > pings, what="pings resume")


def test_a_long_sync_that_commits_batches_keeps_the_watchdog_fed(
    make_daemon: MakeDaemon, listener: NotifyListener, caplog: pytest.LogCaptureFixture
) -> None:
    app = FakeApp(accounts=["work"])
    settings = replace(FAST, hang_after=timedelta(seconds=1))
    daemon = make_daemon(app, settings, watchdog_usec=400_000)
    daemon.start()
    wait_for(lambda: app.count("reconcile") >= 1, what="the first cycle")
    wait_for(lambda: idle(daemon), what="the first cycle to end")
    app.working = threading.Event()
    app.working.set()
    with caplog.at_level(logging.ERROR, logger="nurture"):
        run_now(daemon, "sync:work")

        def long_sync_running() -> bool:
            busy = daemon.worker.busy_for()
            return busy is not None and busy[0] == "sync:work" and busy[1] > 2.5

        wait_for(long_sync_running, what="a sync running past hang_after")
        pings = listener.count("WATCHDOG=1")
        wait_for(lambda: listener.count("WATCHDOG=1") >= pings + 3, what="pings during it")
    app.working.clear()
    assert not any("stuck" in r.message for r in caplog.records)


def test_a_clock_jump_runs_due_jobs_at_once(make_daemon: MakeDaemon) -> None:
    app = FakeApp(accounts=["work"])
    clock = OffsetClock()
    daemon = make_daemon(app, clock=clock)
    daemon.start()
    wait_for(lambda: app.count("reconcile") >= 1, what="the first cycle")
    wait_for(lambda: app.count("rules_changed") >= 1, what="a first tick (the clock baseline)")
    wait_for(lambda: app.count("sync") == 1 and idle(daemon), what="the first cycle to end")
    syncs, reconciles = app.count("sync"), app.count("reconcile")
    # Intervals are an hour: nothing would run for an hour without the resume logic.
    clock.shift = 2 * 3600
    wait_for(lambda: daemon.resumes == 1, what="resume noticed")
    wait_for(lambda: app.count("sync") > syncs, what="sync after resume")
    wait_for(lambda: app.count("reconcile") > reconciles, what="reconcile after resume")
    # The App is given the (jumped) wall-clock time.
    assert app.sync_times[-1][1] >= datetime.now(UTC) + timedelta(hours=1.9)


def test_a_paused_account_stays_paused_after_a_resume(make_daemon: MakeDaemon) -> None:
    app = FakeApp(
        accounts=["work"], script={"work": [AuthError("no", command="nurture auth work")]}
    )
    settings = replace(FAST, auth_retry_every=timedelta(hours=1))
    clock = OffsetClock()
    daemon = make_daemon(app, settings, clock=clock)
    daemon.start()
    wait_for(lambda: daemon.accounts["work"].paused, what="paused")
    wait_for(lambda: app.count("rules_changed") >= 1, what="a first tick (the clock baseline)")
    job = daemon.scheduler.get_job("sync:work")
    clock.shift = 60  # a short nap: the hour-long auth retry is not due yet
    wait_for(lambda: daemon.resumes == 1, what="resume noticed")
    assert daemon.scheduler.get_job("sync:work").next_run_time == job.next_run_time


def test_stop_says_stopping_lets_the_running_job_finish_and_closes_on_the_worker(
    make_daemon: MakeDaemon, listener: NotifyListener
) -> None:
    app = FakeApp(accounts=["work"])
    app.block = threading.Event()
    daemon = make_daemon(app)
    daemon.start()
    wait_for(lambda: app.count("sync", "work") == 1, what="a running sync")
    threading.Timer(0.3, app.block.set).start()
    assert daemon.stop() is True
    assert app.closed and app.threads == {"nurture-worker"}
    assert listener.count("STOPPING=1") == 1
    # the queued reconcile was dropped, not run after the stop request
    assert app.calls[-1] == ("close", "")


def test_stop_gives_up_after_the_timeout_when_a_job_hangs(make_daemon: MakeDaemon) -> None:
    app = FakeApp(accounts=["work"])
    app.block = threading.Event()
    daemon = make_daemon(app, replace(FAST, stop_timeout=timedelta(seconds=0.3)))
    daemon.start()
    wait_for(lambda: app.count("sync", "work") == 1, what="a running sync")
    assert daemon.stop() is False
    assert not daemon.stopped_cleanly
    app.block.set()


def test_reconcile_transient_error_is_retried_soon(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    app = FakeApp(
        accounts=["work"], reconcile_script=[TransientError("calendar busy"), Report(created=2)]
    )
    daemon = make_daemon(app)
    with caplog.at_level(logging.INFO, logger="nurture"):
        daemon.start()
        wait_for(lambda: app.count("reconcile") >= 2, what="retried reconcile")
        wait_for(lambda: any("created 2" in r.message for r in caplog.records), what="INFO line")
    assert sum("calendar busy" in r.message for r in caplog.records) == 1


def reconcile_three_times(daemon: Daemon, app: FakeApp) -> None:
    """Start `daemon`, then run its reconcile twice more, each after the last ended."""
    daemon.start()
    wait_for(lambda: app.count("reconcile") >= 1 and idle(daemon), what="the first cycle")
    for n in (2, 3):
        run_now(daemon, "reconcile")
        wait_for(lambda n=n: app.count("reconcile") >= n and idle(daemon), what="a reconcile")


def test_a_refused_calendar_sign_in_is_said_once_and_its_recovery_once(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    refused = AuthError("the server said 401", command="nurture auth caldav cal")
    app = FakeApp(accounts=["work"], reconcile_script=[refused, refused, Report(created=1)])
    daemon = make_daemon(app)
    with caplog.at_level(logging.INFO, logger="nurture"):
        reconcile_three_times(daemon, app)
    said = [r for r in caplog.records if "401" in r.message]
    assert len(said) == 1 and said[0].levelno == logging.ERROR
    assert "nurture auth caldav cal" in said[0].message
    assert sum("works again" in r.message for r in caplog.records) == 1


def test_an_unforeseen_reconcile_failure_logs_its_traceback_once_per_new_error(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    script: list[object] = [ValueError("bad slot"), ValueError("bad slot"), KeyError("x")]
    app = FakeApp(accounts=["work"], reconcile_script=script)
    daemon = make_daemon(app)
    with caplog.at_level(logging.INFO, logger="nurture"):
        reconcile_three_times(daemon, app)
    failed = [r for r in caplog.records if "failed" in r.message]
    assert [r.exc_info is not None for r in failed] == [True, True]
    assert "bad slot" in failed[0].message and "'x'" in failed[1].message


def test_quiet_info_logs_nothing_for_an_idle_cycle(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    app = FakeApp(accounts=["work"], changes=0)
    daemon = make_daemon(app)
    with caplog.at_level(logging.INFO, logger="nurture"):
        daemon.start()
        caplog.clear()  # what it will do is said once at start (see the test below)
        wait_for(lambda: app.count("reconcile") >= 1 and app.count("rules_changed") >= 3)
    ours = [r for r in caplog.records if r.name.startswith("nurture")]
    assert [r.message for r in ours if r.levelno >= logging.INFO] == []


@dataclass
class ConfiguredApp(FakeApp):
    """A FakeApp that shows its configuration, as the real App does."""

    config: Config | None = None

    def target(self) -> tuple[str, object]:
        return "cal", object()


def test_start_says_at_once_what_it_will_do_and_where_tasks_go(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    config = Config(
        path=tmp_path / "config.toml",
        user_name="Alex",
        addresses=("alex@brightpath.example",),
        accounts=(
            Account("work", "imap", {"host": "imap.example"}),
            Account("cal", "caldav", {"url": "https://dav.example/alex/"}),
        ),
        state_dir=tmp_path,
        rules_dir=tmp_path,
    )
    app = ConfiguredApp(accounts=["work"], config=config, block=threading.Event())
    daemon = make_daemon(app)
    with caplog.at_level(logging.INFO, logger="nurture"):
        daemon.start()  # the first sync blocks: everything below was said before it ended
        said = [r.message for r in caplog.records if r.name.startswith("nurture")]
        app.block.set()  # type: ignore[union-attr]
    text = "\n".join(said)
    assert "accounts work (imap), cal (caldav)" in text
    assert "mail every 60 min and the calendar every 60 min" in text
    assert re.search(r"keep-in-touch scan daily at 07:00, next \w{3} \d\d \w{3} 07:00", text)
    assert "tasks go to the calendar of cal: https://dav.example/alex/" in text


def test_a_reconcile_that_only_dismissed_or_finished_tasks_is_logged_as_a_change(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    """The user deleting or completing a task is a change worth its log line too."""
    app = FakeApp(accounts=["work"], changes=0, reconcile_script=[Report(dismissed=1, done=1)])
    daemon = make_daemon(app)
    with caplog.at_level(logging.INFO, logger="nurture"):
        daemon.start()
        wait_for(lambda: app.count("reconcile") >= 1 and idle(daemon), what="the reconcile")
    said = [r.message for r in caplog.records if r.levelno == logging.INFO]
    assert said[-1] == "created 0, updated 0, removed 0, unchanged 0"
    assert said[0].startswith("nurture ") and len(said) == 3  # two start lines, then this


def test_an_unexpected_reload_failure_is_logged_and_the_old_app_kept(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture, listener: NotifyListener
) -> None:
    first = FakeApp(accounts=["work"])
    loads: list[object] = [first, OSError("state folder is read-only")]

    def load() -> FakeApp:
        outcome = loads.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, FakeApp)
        return outcome

    daemon = make_daemon(load)
    daemon.start()
    with caplog.at_level(logging.ERROR, logger="nurture"):
        daemon.reload().result(timeout=10)
    assert any("read-only" in r.message for r in caplog.records)
    assert daemon.app is first and not first.closed
    # systemd saw RELOADING=1, so it must hear READY=1 again, or it waits forever
    wait_for(lambda: listener.count("READY=1") == 2, what="READY=1 after the failed reload")
    before = first.count("sync")
    run_now(daemon, "sync:work")
    wait_for(lambda: first.count("sync") > before, what="the old app still syncing")


def test_auth_error_without_a_command_asks_the_connector_for_it(
    make_daemon: MakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    class Connector:
        def auth_command(self) -> str:
            return "nurture auth google work"

    app = FakeApp(accounts=["work"], script={"work": [AuthError("invalid_grant")]})
    app.connector = lambda name: Connector()  # type: ignore[attr-defined]
    daemon = make_daemon(app, replace(FAST, auth_retry_every=timedelta(hours=1)))
    with caplog.at_level(logging.ERROR, logger="nurture"):
        daemon.start()
        wait_for(lambda: any(s[3] for s in app.statuses), what="the paused status")
        wait_for(
            lambda: any("`nurture auth google work`" in r.message for r in caplog.records),
            what="the log line naming the command",
        )
    assert ("work", False, "invalid_grant — run `nurture auth google work`", True) in app.statuses


def test_jobs_run_out_of_turn_return_to_the_whole_minute_grid(make_daemon: MakeDaemon) -> None:
    """One wake-up a minute: after the immediate first run, syncs fall on whole minutes."""
    app = FakeApp(accounts=["work"])
    settings = replace(FAST, sync_every=timedelta(minutes=5), reconcile_every=timedelta(minutes=15))
    daemon = make_daemon(app, settings)
    daemon.start()
    wait_for(lambda: app.count("sync") == 1 and app.count("reconcile") == 1 and idle(daemon))
    for job_id, minutes in (("sync:work", 5), ("reconcile", 15)):
        when = daemon.scheduler.get_job(job_id).next_run_time
        assert when.timestamp() % (minutes * 60) == 0, (job_id, when)
        assert when > datetime.now(UTC)
    grid = GridTrigger(timedelta(minutes=5))
    off = datetime(2026, 11, 23, 14, 0, 25, tzinfo=UTC)
    assert grid.get_next_fire_time(off, off) == datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    on = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    assert grid.get_next_fire_time(on, on) == datetime(2026, 11, 23, 14, 10, tzinfo=UTC)
