"""`nurture rules check`, `status` and `demo`."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import click
from platformdirs import user_data_dir
from rich.table import Table

from ..app import App
from ..config import load_config
from ..errors import NurtureError
from ..model import UTC
from ..rules import check_rules
from .common import app_from, console, errors, fail


@click.group()
def rules() -> None:
    """Work with the rule files (tiers, contacts, ignores, hours)."""


@rules.command("check")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def rules_check(ctx: click.Context, folder: Path | None) -> None:
    """Validate the rule files and list every problem with file, line and key."""
    if folder is None:
        try:
            folder = load_config(
                ctx.obj.get("config_path") and Path(ctx.obj["config_path"])
            ).rules_dir
        except NurtureError as exc:
            fail(exc)
            return
    book, problems = check_rules(folder)
    if problems:
        for problem in problems:
            errors.print(f"[red]✗[/] {problem}", soft_wrap=True)
        errors.print(f"{len(problems)} problem(s); nurture keeps using the last good rules.")
        ctx.exit(1)
    console.print(
        f"✓ {len(book.files)} rule file(s) OK: {len(book.tiers)} tiers, "
        f"{len(book.contacts)} contact rules, working hours "
        f"{book.work.start:%H:%M}–{book.work.end:%H:%M} {book.work.timezone}"
    )


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the last sync per account, counts and problems."""
    with app_from(ctx) as app:
        table = Table()
        for column in ("account", "connector", "messages", "last sync", "last ok", "problem"):
            table.add_column(column, overflow="fold")
        known = {s.name: s for s in app.state.account_status()}
        for account in app.config.accounts:
            s = known.get(account.name)
            fmt = "%Y-%m-%d %H:%M"
            table.add_row(
                account.name,
                account.connector,
                str(s.messages if s else 0),
                s.last_sync.strftime(fmt) if s and s.last_sync else "never",
                s.last_ok.strftime(fmt) if s and s.last_ok else "never",
                ("[red]paused: [/]" if s and s.paused else "") + (s.error if s else ""),
            )
        console.print(table)
        ledger = app.state.ledger().values()
        counts: dict[str, int] = {}
        for e in ledger:
            counts[e.state] = counts.get(e.state, 0) + 1
        console.print(
            "suggestions: "
            + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none yet")
        )
        console.print(f"state: {app.state.path}  rules: {app.config.rules_dir}")


def demo_root() -> Path:
    return Path(user_data_dir("nurture")) / "demo"


@click.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo lives (default: $XDG_DATA_HOME/nurture/demo).",
)
@click.option("--fresh", is_flag=True, help="Throw away the demo and generate it again.")
@click.pass_context
def demo(ctx: click.Context, folder: Path | None, fresh: bool) -> None:
    """Generate a sample consultancy's six months of mail and calendar, and run on it.

    The sample is made once a day (it ends "now"); running again the same day
    reuses it, so the second run shows created 0, updated 0, removed 0. A sample an
    older version of nurture made is made again.
    """
    from ..demo import generate, is_current
    from .sync import placements_table, run_sync

    root = folder or demo_root()
    today = datetime.now(UTC).date()
    anchor = datetime(today.year, today.month, today.day, 8, 0, tzinfo=UTC)
    data = root / anchor.strftime("%Y-%m-%d")
    if fresh and root.exists():
        shutil.rmtree(root)
    if not is_current(data):
        if root.exists():
            # An older day's sample, or one an older nurture made: nothing of the user's
            # lives here (the demo keeps its state inside its own folder).
            shutil.rmtree(root)
        console.print(f"Generating the sample mailbox and calendar in {data} …")
        generate(data, anchor)
    config = data / "config.toml"
    try:
        app = App.load(config)
    except NurtureError as exc:
        fail(exc)
        return
    try:
        report, problems = run_sync(app, anchor, dry_run=False)
        console.print(
            f"\n[bold]Follow-ups nurture placed for {app.config.user_name}[/] "
            f"(demo time {anchor:%a %d %b %Y %H:%M} UTC):"
        )
        console.print(placements_table(report, app.rules.work.zone))
        target, _ = app.target()
        calendar = app.config.account(target).options.get("calendar", "")
        console.print(f"calendar written: {calendar}")
        console.print(f"try: nurture --config {config} list | explain KEY | status")
        for problem in problems:
            errors.print(f"[yellow]warning:[/] {problem}")
        console.print(report.summary())
    except NurtureError as exc:
        fail(exc)
    finally:
        app.close()
