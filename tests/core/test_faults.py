"""Faults around the app: odd files, a second run, a wrong clock, a full or read-only disk.

Each ends in a clear message, or in nothing changed; never a traceback, never a lost decision.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nurture.app import App
from nurture.cli import main
from nurture.errors import ClockBehind
from nurture.lock import InstanceLock

from .conftest import NOW, Setup


def test_a_dangling_rule_file_link_is_a_change_not_a_crash(setup: Setup) -> None:
    app = setup.app()
    try:
        (setup.root / "rules" / "gone.toml").symlink_to(setup.root / "nowhere.toml")
        assert app.rules_changed()  # stat() of the link's missing target raised here
        problems = app.reload_rules()
        assert [p.where.split(":")[0].rsplit("/", 1)[-1] for p in problems] == ["gone.toml"]
        assert not app.rules_changed()
    finally:
        app.close()


def test_a_relative_config_path_gives_absolute_paths_and_links(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.ask(days_ago=4)
    monkeypatch.chdir(setup.root.parent)
    app = App.load(Path(setup.root.name) / "config.toml")
    try:
        assert app.config.path.is_absolute() and app.config.state_dir.is_absolute()
        assert Path(app.config.account("mail").options["maildir"]).is_absolute()
        report = app.sync_all(NOW).calendar
    finally:
        app.close()
    assert report is not None
    (placement,) = report.placements
    link = placement.suggestion.thread_link
    assert link.startswith("file:///") and Path(link.removeprefix("file://")).exists()


def nurture(setup: Setup, *args: str) -> Result:
    """The `nurture` command on the setup's config, as a user types it."""
    return CliRunner().invoke(
        main,
        ["--config", str(setup.root / "config.toml"), *args],
        env={"COLUMNS": "200"},
        catch_exceptions=False,
    )


def test_a_second_sync_waits_for_none_and_changes_nothing(setup: Setup) -> None:
    """Two `sync --once` at a time placed every task twice: the second is refused."""
    setup.ask(days_ago=4)
    state = setup.app().config.state_dir
    with InstanceLock(state):  # the daemon, or another sync, holds the state folder
        refused = nurture(setup, "sync", "--once", "--now", NOW.isoformat())
    assert refused.exit_code != 0
    assert f"pid {os.getpid()}" in refused.output and "already" in refused.output
    assert "systemctl --user stop nurture" in refused.output
    assert setup.ledger() == {} and list(setup.calendar.glob("*.ics")) == []
    done = nurture(setup, "sync", "--once", "--now", NOW.isoformat())
    assert done.exit_code == 0, done.output
    assert len(setup.ledger()) == 1


def _calendar(setup: Setup) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in setup.calendar.glob("*.ics")}


@pytest.mark.parametrize(
    "wrong", [datetime(1970, 1, 1, tzinfo=UTC), NOW - timedelta(days=3)], ids=["1970", "3-days"]
)
def test_a_clock_before_the_last_run_changes_nothing(setup: Setup, wrong: datetime) -> None:
    """A dead RTC (1970) or a clock three days back removed every task."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    ledger, calendar = setup.ledger(), _calendar(setup)
    assert list(ledger.values()) == ["active"]
    refused = nurture(setup, "sync", "--once", "--now", wrong.isoformat())
    assert refused.exit_code != 0
    assert "clock is behind" in refused.output and "timedatectl" in refused.output
    assert "Traceback" not in refused.output
    assert setup.ledger() == ledger and _calendar(setup) == calendar
    status = nurture(setup, "status")
    assert "clock is behind" in status.output  # what `status` says until it is right
    again = setup.sync(NOW + timedelta(hours=1))  # the clock is right again
    assert (again.created, again.removed, again.unchanged) == (0, 0, 1)
    assert _calendar(setup) == calendar


def test_the_daemons_jobs_back_off_while_the_clock_is_behind(setup: Setup) -> None:
    """The daemon's path: each mail account fails like a network that is down; the
    reconcile raises a transient error (logged once, retried); nothing is written."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    ledger = setup.ledger()
    app = setup.app()
    try:
        (mail,) = app.sync_all(NOW - timedelta(hours=1), reconcile=False).mail
        assert isinstance(mail.error, ClockBehind) and not mail.health.ok
        with pytest.raises(ClockBehind):
            app.reconcile(NOW - timedelta(hours=1))
        assert app.sync_all(NOW - timedelta(minutes=2), reconcile=False).mail[0].health.ok
    finally:
        app.close()
    assert setup.ledger() == ledger


def test_a_snoozed_task_that_comes_back_keeps_the_users_time(setup: Setup) -> None:
    """A task removed for a while (its sender ignored, then not) returns at the time the
    user snoozed it to, not at a default slot."""
    setup.ask(days_ago=4)
    setup.sync(NOW)
    (path,) = setup.calendar.glob("*.ics")
    text = path.read_text()
    start = re.search(r"DTSTART:(\S+)", text).group(1)  # type: ignore[union-attr]
    end = re.search(r"DTEND:(\S+)", text).group(1)  # type: ignore[union-attr]
    path.write_text(
        text.replace(f"DTSTART:{start}", "DTSTART:20261127T150000Z").replace(
            f"DTEND:{end}", "DTEND:20261127T152000Z"
        )
    )
    assert setup.sync(NOW).updated + setup.sync(NOW).unchanged >= 1  # the move is seen
    rules = setup.root / "rules" / "work.toml"
    good = rules.read_text()
    rules.write_text(good + '\n[ignore]\nsenders = ["dana@client.example"]\n')
    assert setup.sync(NOW + timedelta(hours=1)).removed == 1
    rules.write_text(good)
    back = setup.sync(NOW + timedelta(hours=2))
    assert back.created == 1
    (path,) = setup.calendar.glob("*.ics")
    assert "DTSTART:20261127T150000Z" in path.read_text()
