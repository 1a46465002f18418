"""Faults around the app: odd files, a second run, a wrong clock, a full or read-only disk.

Each ends in a clear message, or in nothing changed; never a traceback, never a lost decision.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.app import App

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
