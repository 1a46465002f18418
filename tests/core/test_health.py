"""Account health in one place: the pure `AccountHealth`, and `nurture sync` and `status`
reading it for mail and calendar accounts alike."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from nurture import connector as registry
from nurture.cli import main
from nurture.connector import Capability, Connector, MailBatch, MailSource, Option
from nurture.errors import AuthError, TransientError
from nurture.health import AccountHealth, Backoff
from nurture.model import Body

from .conftest import NOW, Setup

REFUSED = AuthError("Authentication failed.", command="nurture auth imap work")
BACKOFF = Backoff(first=timedelta(seconds=30), most=timedelta(minutes=10))


# ---- the pure object -------------------------------------------------------------------


def test_a_refused_sign_in_pauses_and_names_its_fix_once() -> None:
    health = AccountHealth("work").failed(REFUSED, NOW)
    assert health.paused and not health.ok
    assert health.problem == "Authentication failed. — run `nurture auth imap work`"
    assert health.delay(BACKOFF, 0.7) == BACKOFF.paused
    news = health.news(AccountHealth("work"), health.delay(BACKOFF, 0.7))
    assert news is not None and news.level == logging.ERROR
    assert news.text.count("nurture auth imap work") == 1
    again = health.failed(REFUSED, NOW + timedelta(hours=1))
    assert again.news(health, BACKOFF.paused) is None  # one line per transition, not per failure


def test_an_error_without_a_command_takes_the_connectors() -> None:
    health = AccountHealth("work").failed(
        AuthError("invalid_grant"), NOW, "nurture auth google work"
    )
    assert health.problem == "invalid_grant — run `nurture auth google work`"


def test_transient_failures_back_off_log_once_and_recovery_is_said() -> None:
    first = AccountHealth("work").failed(TransientError("server busy", retry_after=600), NOW)
    assert first.delay(BACKOFF, 0.5) == timedelta(seconds=600)  # never sooner than asked
    news = first.news(AccountHealth("work"), timedelta(seconds=600))
    assert news is not None and news.level == logging.WARNING and not news.traceback
    second = first.failed(TransientError("server busy"), NOW + timedelta(minutes=10))
    assert second.failures == 2 and second.delay(BACKOFF, 1.0) == timedelta(seconds=60)
    quiet = second.news(first, timedelta(seconds=60))
    assert quiet is not None and quiet.level == logging.DEBUG
    back = second.succeeded(NOW + timedelta(minutes=11))
    assert back.ok and back.problem == "" and back.last_ok == NOW + timedelta(minutes=11)
    said = back.news(second, timedelta(0))
    assert said is not None and said.level == logging.INFO and "works again" in said.text


def test_an_unforeseen_failure_is_logged_with_its_traceback_when_it_changes() -> None:
    first = AccountHealth("work").failed(KeyError("uid"), NOW)
    news = first.news(AccountHealth("work"), timedelta(seconds=30))
    assert first.unexpected and news is not None and news.traceback
    same = first.failed(KeyError("uid"), NOW)
    assert same.news(first, timedelta(seconds=60)).level == logging.DEBUG  # type: ignore[union-attr]
    other = same.failed(ValueError("bad date"), NOW)
    assert other.news(same, timedelta(seconds=120)).level == logging.ERROR  # type: ignore[union-attr]


# ---- sync and status -------------------------------------------------------------------


class _Failing(MailSource):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        raise self.error

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        return iter(())


class Failing(Connector):
    """A mail account whose every sync fails the way its `fails` option says."""

    name: ClassVar[str] = "failing"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.MAIL})
    options: ClassVar[tuple[Option, ...]] = (Option("fails", "auth or bug", default="auth"),)

    def mail(self) -> MailSource:
        fails = self.context.options.get("fails", "auth")
        return _Failing(REFUSED if fails == "auth" else KeyError("uid"))


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.load

    def load(name: str) -> type[Connector]:
        return Failing if name == "failing" else real(name)

    monkeypatch.setattr(registry, "load", load)


def _with(setup: Setup, extra: str) -> Path:
    config = setup.root / "config.toml"
    config.write_text(config.read_text() + extra)
    return config


def _nurture(config: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["--config", str(config), *args], env={"COLUMNS": "250"}, catch_exceptions=False
    )


def _row(status: Result, account: str) -> str:
    return next(line for line in status.output.splitlines() if line.startswith(f"│ {account} "))


def test_one_accounts_unexpected_error_does_not_stop_the_others(setup: Setup, failing: Any) -> None:
    setup.ask(days_ago=4)
    config = _with(setup, '[accounts.broken]\nconnector = "failing"\nfails = "bug"\n')
    result = _nurture(config, "sync", "--now", NOW.isoformat())
    assert result.exit_code == 1  # a problem to report, not a traceback
    assert "broken: 'uid'" in result.output
    assert "created 1," in result.output  # the local mail still made its reply task
    status = _nurture(config, "status")
    assert "never" not in _row(status, "mail")
    assert "'uid'" in _row(status, "broken")


def test_status_names_the_auth_fix_once(setup: Setup, failing: Any) -> None:
    config = _with(setup, '[accounts.work]\nconnector = "failing"\n')
    _nurture(config, "sync", "--now", NOW.isoformat())
    row = _row(_nurture(config, "status"), "work")
    assert "paused:" in row
    assert row.count("nurture auth imap work") == 1, row


def test_a_dry_run_records_no_account_as_paused(setup: Setup, failing: Any) -> None:
    config = _with(setup, '[accounts.work]\nconnector = "failing"\n')
    result = _nurture(config, "sync", "--dry-run", "--now", NOW.isoformat())
    assert "Authentication failed." in result.output  # the dry run still says what is wrong
    row = _row(_nurture(config, "status"), "work")
    assert "paused" not in row and "Authentication" not in row
    assert row.count("never") == 2


def test_status_reports_a_calendar_that_synced(setup: Setup) -> None:
    config = setup.root / "config.toml"
    assert _nurture(config, "sync", "--now", NOW.isoformat()).exit_code == 0
    row = _row(_nurture(config, "status"), "cal")
    assert "never" not in row and NOW.strftime("%a %d %b %H:%M") in row  # London = UTC


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_status_reports_a_calendar_that_cannot_be_reached(setup: Setup) -> None:
    pytest.importorskip("caldav")
    config = setup.root / "config.toml"
    text = config.read_text().replace(
        '[accounts.cal]\nconnector = "local"\ncalendar = "calendar"\n',
        f'[accounts.cal]\nconnector = "caldav"\nurl = "http://127.0.0.1:{_closed_port()}/"\n'
        'user = "alex"\npassword_command = "echo secret"\n',
    )
    config.write_text(text)
    result = _nurture(config, "sync", "--now", NOW.isoformat())
    assert result.exit_code != 0 and "CalDAV server unreachable" in result.output
    row = _row(_nurture(config, "status"), "cal")
    assert "CalDAV server unreachable" in row
    assert row.count("never") == 1  # tried (last sync), never worked (last ok)
