"""`nurture run`: the daemon in the foreground (what the systemd unit starts)."""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from ..durations import parse_duration
from ..errors import UserError

# Exit status for a configuration nurture cannot start with (sysexits EX_CONFIG).
EX_CONFIG = 78


class Duration(click.ParamType):
    """A duration on the command line: "30s", "5m", "1h"."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            delta = parse_duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if delta <= timedelta(0):
            self.fail("must be longer than zero", param, ctx)
        return delta


@click.command("run")
@click.option(
    "--sync-every",
    type=Duration(),
    envvar="NURTURE_SYNC_EVERY",
    help='Mail sync interval per account (default: [daemon] mail_every, else "5m").',
)
@click.option(
    "--reconcile-every",
    type=Duration(),
    envvar="NURTURE_RECONCILE_EVERY",
    help='Calendar reconcile interval (default: [daemon] reconcile_every, else "15m").',
)
@click.option(
    "--tick",
    type=Duration(),
    envvar="NURTURE_TICK",
    help='How often to check for a resume from suspend and changed rules (default "1m").',
)
@click.pass_context
def run(
    ctx: click.Context,
    sync_every: timedelta | None,
    reconcile_every: timedelta | None,
    tick: timedelta | None,
) -> None:
    """Run nurture in the foreground until stopped.

    Syncs mail, keeps the calendar tasks current and reloads changed rule
    files by itself. SIGHUP re-reads config.toml and the rules; SIGTERM or
    Ctrl-C stops after the running step. Normally systemd starts this: see
    `nurture service install`.
    """
    from .. import logsetup
    from ..config import load_config
    from ..daemon import Daemon, settings_from_app
    from ..jobs import Clock
    from ..lock import InstanceLock
    from ..notify import Notifier

    obj = ctx.obj or {}
    config_path = Path(obj["config_path"]) if obj.get("config_path") else None
    logsetup.setup(int(obj.get("verbose", 0)))
    # If the watchdog has to kill a stuck daemon (SIGABRT), the journal gets every
    # thread's stack: where it hung, with no message content in it.
    faulthandler.enable()
    notifier = Notifier.from_environment()
    try:
        config = load_config(config_path)
    except UserError as error:
        click.echo(str(error), err=True)
        ctx.exit(EX_CONFIG)
    lock = InstanceLock(Path(config.state_dir))
    try:
        lock.acquire()
    except UserError as error:  # AlreadyRunning, or a state folder that cannot be written
        click.echo(str(error), err=True)
        ctx.exit(1)

    from ..app import App

    overrides = {
        name: value
        for name, value in (
            ("sync_every", sync_every),
            ("reconcile_every", reconcile_every),
            ("tick_every", tick),
        )
        if value is not None
    }
    daemon = Daemon(
        lambda: App.load(config_path),
        overrides=overrides,
        settings_from_app=settings_from_app,
        notifier=notifier,
        clock=Clock.from_environment(),
    )
    try:
        code = daemon.serve()
    except UserError as error:
        click.echo(str(error), err=True)
        code = EX_CONFIG
    finally:
        lock.release()
    # Everything is closed and flushed by now. Leave without the interpreter's
    # teardown, which takes seconds with the NLP model loaded, and which a job that
    # outlived the stop timeout would otherwise hold up.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
