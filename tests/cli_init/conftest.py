"""Fixtures for `nurture init` and `nurture auth`: a private home, fake connectors."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import keyring
import keyring.core
import pytest
from click.testing import CliRunner, Result
from keyring.backends import fail

import nurture.connector as registry
from nurture.cli import main
from nurture.connector import Capability, Connector, Option
from nurture.errors import UserError


class FakeImap(Connector):
    """Shaped like an IMAP connector: mail only, a host, a user and a password."""

    name = "imap"
    summary = "IMAP mail (test double)"
    capabilities = frozenset({Capability.MAIL})
    options: ClassVar[tuple[Option, ...]] = (
        Option("host", "IMAP server name", required=True, ask=True),
        Option("port", "IMAP port", type=int, default=993, ask=True),
        Option("username", "login name", required=True, ask=True),
        Option("password", "login password", secret=True, ask=True),
        Option("folders", "extra folders to read", type=list, default=[]),
    )


class StrictImap(FakeImap):
    """FakeImap with a password that must be given: init refuses to finish without one."""

    options: ClassVar[tuple[Option, ...]] = tuple(
        Option(o.name, o.help, o.type, o.default, True, o.secret, o.ask, o.choices)
        if o.secret
        else o
        for o in FakeImap.options
    )


class FakeCalDav(Connector):
    """Shaped like a CalDAV connector: calendar only, calendars to read and one to write."""

    name = "caldav"
    summary = "CalDAV calendar (test double)"
    capabilities = frozenset({Capability.CALENDAR})
    options: ClassVar[tuple[Option, ...]] = (
        Option("url", "CalDAV server URL", required=True, ask=True),
        Option("username", "login name", required=True, ask=True),
        Option("password", "login password", secret=True, ask=True),
        Option("read_calendars", "calendars read for busy time", type=list, default=[], ask=True),
        Option("calendar", "calendar that receives the tasks", ask=True),
    )


class FakeOAuth(Connector):
    """Shaped like the Microsoft connector: a sign-in flow that keeps a refresh token."""

    name = "microsoft"
    summary = "Microsoft 365 (test double)"
    capabilities = frozenset({Capability.MAIL, Capability.CALENDAR})
    options: ClassVar[tuple[Option, ...]] = (
        Option("client_id", "app id", required=True, ask=True),
        Option("client_secret", "app secret", secret=True),
    )
    calls: ClassVar[list[dict[str, Any]]] = []

    def authorize(self, interactive: bool = True) -> None:
        FakeOAuth.calls.append(
            {
                "interactive": interactive,
                "account": self.context.account,
                "client_secret": self.context.secret("client_secret"),
                "identities": self.context.identities,
            }
        )
        self.context.store_secret("refresh_token", "refresh-" + self.context.options["client_id"])


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """XDG folders under tmp_path, no real keyring (secrets go to the 0600 file)."""
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("NURTURE_CONFIG", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("TZ", "Europe/Berlin")
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(fail.Keyring())
    FakeOAuth.calls.clear()
    yield home


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Replace the installed connectors with the given classes."""

    def install(*classes: type[Connector]) -> None:
        by_name = {cls.name: cls for cls in classes}

        def load(name: str) -> type[Connector]:
            if name not in by_name:
                raise UserError(f"no connector named {name!r}")
            return by_name[name]

        monkeypatch.setattr(registry, "available", lambda: dict(by_name))
        monkeypatch.setattr(registry, "load", load)

    return install


def run(args: list[str], input: str | None = None) -> Result:
    """Run the `nurture` command as a user would, without a terminal."""
    return CliRunner().invoke(main, args, input=input, catch_exceptions=False)


def read_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
