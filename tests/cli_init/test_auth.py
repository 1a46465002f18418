"""`nurture auth CONNECTOR ACCOUNT`: finds the account, binds its secrets, runs the flow."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from nurture_local import LocalConnector

from nurture.cli.auth import connector_name
from nurture.secrets import Secrets

from .conftest import FakeCalDav, FakeImap, FakeOAuth, run

CONFIG = """\
[user]
name = "Alex Morgan"
addresses = ["alex@brightpath.example"]

[paths]
state = "state"

[accounts.work]
connector = "microsoft"
client_id = "cid-42"
client_secret_command = "printf app-secret"

[accounts.home]
connector = "local"
maildir = "~/Mail"
"""


@pytest.fixture
def config(tmp_path: Path, fake_registry: Callable[..., None]) -> Path:
    fake_registry(FakeOAuth, LocalConnector)
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text(CONFIG, encoding="utf-8")
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("typed", ["microsoft", "graph", "Microsoft", "outlook"])
def test_auth_runs_the_flow_and_keeps_the_token(config: Path, typed: str) -> None:
    result = run(["--config", str(config), "auth", typed, "work"])
    assert result.exit_code == 0, result.output
    assert FakeOAuth.calls == [
        {
            "interactive": True,
            "account": "work",
            "client_secret": "app-secret",
            "identities": ("alex@brightpath.example",),
        }
    ]
    state = config.parent / "state"
    token_file = state / "secrets" / "work.refresh_token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert Secrets("work", {}, state).get("refresh_token") == "refresh-cid-42"
    assert "refresh-cid-42" not in result.output


def test_auth_names_the_right_connector_on_a_mismatch(config: Path) -> None:
    result = run(["--config", str(config), "auth", "google", "work"])
    assert result.exit_code != 0
    assert "microsoft" in result.output
    assert "nurture auth microsoft work" in result.output
    assert "Traceback" not in result.output
    assert FakeOAuth.calls == []


def test_auth_unknown_account_lists_the_accounts(config: Path) -> None:
    result = run(["--config", str(config), "auth", "microsoft", "nosuch"])
    assert result.exit_code != 0
    assert "nosuch" in result.output
    assert "work" in result.output and "home" in result.output


def test_auth_for_a_connector_without_sign_in_says_so(config: Path) -> None:
    result = run(["--config", str(config), "auth", "local", "home"])
    assert result.exit_code != 0
    assert "need no sign-in" in result.output
    assert "Traceback" not in result.output


def test_auth_without_config_points_to_init(tmp_path: Path) -> None:
    result = run(["--config", str(tmp_path / "none.toml"), "auth", "microsoft", "work"])
    assert result.exit_code != 0
    assert "nurture init" in result.output


def test_aliases() -> None:
    assert connector_name("Gmail") == "google"
    assert connector_name("ews") == "exchange"
    assert connector_name("graph") == "microsoft"
    assert connector_name("caldav") == "caldav"


PASSWORD_CONFIG = """\
[user]
name = "Alex Morgan"
addresses = ["alex@brightpath.example"]

[paths]
state = "state"

[accounts.mail]
connector = "imap"
host = "imap.example.org"
username = "alex@brightpath.example"

[accounts.cal]
connector = "caldav"
url = "https://dav.example.org/"
username = "alex@brightpath.example"
password_command = "pass show dav"
"""


@pytest.fixture
def password_config(tmp_path: Path, fake_registry: Callable[..., None]) -> Path:
    fake_registry(FakeImap, FakeCalDav)
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text(PASSWORD_CONFIG, encoding="utf-8")
    return path


def test_auth_for_a_password_account_stores_the_typed_password(password_config: Path) -> None:
    result = run(["--config", str(password_config), "auth", "imap", "mail"], input="imap-pass-9\n")
    assert result.exit_code == 0, result.output
    assert "imap-pass-9" not in result.output
    state = password_config.parent / "state"
    assert (state / "secrets" / "mail.password").stat().st_mode & 0o777 == 0o600
    assert Secrets("mail", {}, state).get("password") == "imap-pass-9"


def test_auth_for_a_password_from_a_command_points_to_the_command(password_config: Path) -> None:
    result = run(["--config", str(password_config), "auth", "caldav", "cal"], input="")
    assert result.exit_code == 0, result.output
    assert "password_command" in result.output
    assert not (password_config.parent / "state" / "secrets").exists()
