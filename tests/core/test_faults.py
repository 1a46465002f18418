"""Faults around the app: odd files, a second run, a wrong clock, a full or read-only disk.

Each ends in a clear message, or in nothing changed; never a traceback, never a lost decision.
"""

from __future__ import annotations

from pathlib import Path

from .conftest import Setup


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
