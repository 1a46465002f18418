"""Shared pieces of the CLI: loading the app, printing errors, progress, time."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..app import App
from ..errors import NurtureError, UserError
from ..lock import InstanceLock
from ..model import UTC

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def fail(exc: Exception) -> None:
    """Print a user-facing error without a traceback and exit non-zero."""
    errors.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
    raise SystemExit(2 if isinstance(exc, UserError) else 1)


@contextmanager
def app_from(ctx: click.Context, *, exclusive: bool = False) -> Iterator[App]:
    """Load the App from the --config given to the main group; close it afterwards.

    `exclusive`: hold the state folder's lock while the App works, as the daemon
    does (`nurture.lock`), for commands that write the calendar and the ledger.
    """
    path = ctx.obj.get("config_path") if ctx.obj else None
    try:
        app = App.load(Path(path) if path else None)
    except NurtureError as exc:
        fail(exc)
        raise  # unreachable: fail exits
    lock = InstanceLock(app.config.state_dir)
    try:
        if exclusive:
            lock.acquire()
        yield app
    except NurtureError as exc:
        fail(exc)
    finally:
        app.close()
        lock.release()


def parse_now(value: str | None) -> datetime | None:
    """--now for reproducible runs (tests, demo); an ISO time, UTC if no offset."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int | None], None]]:
    """A progress callback: a bar on a terminal for long first syncs, silence otherwise."""
    if not sys.stderr.isatty():
        yield lambda _done, _total: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, visible=False)

        def update(done: int, total: int | None) -> None:
            if total and total >= 500:  # small syncs finish before a bar helps
                bar.update(task, completed=done, total=total, visible=True)

        yield update
