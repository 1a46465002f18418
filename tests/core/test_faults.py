"""Faults around the app: odd files, a second run, a wrong clock, a full or read-only disk.

Each ends in a clear message, or in nothing changed; never a traceback, never a lost decision.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nurture.app import App
from nurture.cli import main
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
