"""`nurture init` sets up IMAP + CalDAV accounts interactively; `nurture status` shows them ok."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.dovecot import DovecotServer
from tests.servers.radicale import RadicaleServer

pytestmark = pytest.mark.server
NURTURE = str(Path(sys.executable).with_name("nurture"))


def _command(path: Path, secret: str) -> str:
    path.write_text(f"#!/bin/sh\nprintf '%s' '{secret}'\n")
    path.chmod(stat.S_IRWXU)
    return str(path)


def test_init_then_status_is_healthy(
    tmp_path: Path, dovecot: DovecotServer, radicale: RadicaleServer
) -> None:
    radicale.make_calendar("work")
    env = dict(
        os.environ,
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    answers = [
        "imap", "mail", f"{dovecot.host}:{dovecot.port}", dovecot.user,
        _command(tmp_path / "wrong-pass", "not-" + dovecot.password),
        "r", "", "",  # Dovecot refused it: try again, same host and user
        _command(tmp_path / "imap-pass", dovecot.password),
        "y",
        "caldav", "calendar", radicale.url, radicale.user,
        _command(tmp_path / "dav-pass", radicale.password),
        "", "work",  # read every calendar; write to "work"
        "",  # no more accounts
        "Alex Morgan", "alex@brightpath.example", "Europe/London",
    ]  # fmt: skip
    init = subprocess.run(
        [NURTURE, "init"], input="\n".join(answers) + "\n" * 4, text=True,
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Could not sign in to mail:" in init.stdout  # the wrong password, before writing
    assert "Signed in to mail: it works." in init.stdout
    assert "Signed in to calendar: it works." in init.stdout
    config = (tmp_path / "config" / "nurture" / "config.toml").read_text()
    assert 'connector = "imap"' in config and 'connector = "caldav"' in config
    assert dovecot.password not in config and radicale.password not in config

    sync = subprocess.run([NURTURE, "sync"], capture_output=True, text=True, env=env, timeout=300)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    status = subprocess.run([NURTURE, "status"], capture_output=True, text=True, env=env,
                            timeout=120)  # fmt: skip
    assert status.returncode == 0, status.stderr
    mail_row = next(line for line in status.stdout.splitlines() if line.startswith("│ mail "))
    assert "never" not in mail_row and "trouble" not in status.stdout, status.stdout
    calendar_row = next(
        line for line in status.stdout.splitlines() if line.startswith("│ calendar ")
    )
    assert "never" not in calendar_row, status.stdout  # the calendar's syncs count too
