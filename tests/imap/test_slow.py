"""A real Dovecot behind a proxy that trickles its answers: the account is cut, the rest goes on.

One byte every 20 s never trips the connector's 60 s read timeout; it kept `sync --once`
alive past 240 s and the daemon's only worker until the 2 h watchdog. Here the proxy
sends one byte a second and the account's quiet limit is 3 s: the account must end
with `TooSlow`, back off like any transient failure, and the local account beside it
must be read and its task placed. Without the limit the sync would wait for the
proxy to give up (40 s) and end with a plain connection error.
"""

from __future__ import annotations

import shlex
from datetime import timedelta
from pathlib import Path

import pytest

from nurture.app import AccountSync, App
from nurture.deadline import Limits, TooSlow
from nurture.health import Backoff
from tests.contract import make_message
from tests.core.conftest import NOW, Setup
from tests.servers.dovecot import DovecotServer
from tests.servers.trickle import trickle_proxy
from tests.world import World

pytestmark = pytest.mark.server

LIMITS = Limits(quiet=timedelta(seconds=3), account=timedelta(minutes=5))


def _account(done: list[AccountSync], name: str) -> AccountSync:
    return next(s for s in done if s.account == name)


def test_a_trickling_server_is_cut_and_the_other_accounts_go_on(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    dovecot.append(
        make_message(
            message_id="sam-1@client.example",
            sender="Sam Ortiz <sam@client.example>",
            subject="Contract",
            body="Could you sign the contract, please?",
            date=NOW - timedelta(days=4),
        )
    )
    secret = tmp_path / "secret"
    secret.write_text(dovecot.password)
    setup = Setup(tmp_path)
    setup.ask(days_ago=4)  # Dana, in the local Maildir
    with trickle_proxy(dovecot.host, dovecot.port, every=1.0, give_up=40.0) as proxy:
        config = setup.root / "config.toml"
        config.write_text(
            config.read_text()
            + f'[accounts.slow]\nconnector = "imap"\nhost = "127.0.0.1"\nport = {proxy.port}\n'
            f'user = "{dovecot.user}"\npassword_command = "cat {shlex.quote(str(secret))}"\n'
        )
        app = App.load(config)
        app.limits = LIMITS
        try:
            proxy.slow = True
            done = app.sync_all(NOW)
            slow = _account(list(done.mail), "slow")
            assert isinstance(slow.error, TooSlow), slow.error
            assert not slow.health.paused and slow.health.delay(Backoff(), 1.0) > timedelta(0)
            assert "no progress from the server" in slow.health.problem
            assert _account(list(done.mail), "mail").health.ok
            assert done.calendar is not None
            assert [p.suggestion.contact.email for p in done.calendar.placements] == [
                "dana@client.example"
            ]
            assert proxy.trickled < 20  # cut after seconds, not when the proxy gave up

            proxy.slow = False  # the server answers again: the next sync reads its mail
            again = app.sync_all(NOW)
            assert _account(list(again.mail), "slow").health.ok
            assert again.calendar is not None
            assert {p.suggestion.contact.email for p in again.calendar.placements} == {
                "dana@client.example",
                "sam@client.example",
            }
        finally:
            app.close()


def test_a_kept_connection_that_starts_to_trickle_is_cut_too(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    """The account synced once at full speed (its connection kept open); then the server
    trickles mid-sync: the kept connection is cut, and the sync after reads the new mail."""
    secret = tmp_path / "secret"
    secret.write_text(dovecot.password)
    root = tmp_path / "world"
    root.mkdir()
    with trickle_proxy(dovecot.host, dovecot.port, every=1.0, give_up=40.0) as proxy:
        world = World(
            root,
            f'[accounts.slow]\nconnector = "imap"\nhost = "127.0.0.1"\nport = {proxy.port}\n'
            f'user = "{dovecot.user}"\npassword_command = "cat {shlex.quote(str(secret))}"\n',
        )
        app = world.app()
        app.limits = LIMITS
        try:
            assert app.sync_all(NOW, reconcile=False).mail[0].health.ok
            dovecot.append(make_message(message_id="later@client.example"))
            proxy.slow = True
            (cut,) = app.sync_all(NOW, reconcile=False).mail
            assert isinstance(cut.error, TooSlow), cut.error
            assert proxy.trickled < 20
            proxy.slow = False
            (back,) = app.sync_all(NOW, reconcile=False).mail
            assert back.health.ok and back.changes == 1
        finally:
            app.close()
