"""`nurture rules check`, `status` and `demo`."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from datetime import datetime, tzinfo
from pathlib import Path

import click
from platformdirs import user_data_dir
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..app import App
from ..config import load_config
from ..durations import moment
from ..errors import NurtureError
from ..health import AccountHealth
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
        messages = app.state.message_counts()
        zone = app.rules.work.zone
        healths: dict[str, list[AccountHealth]] = {}
        for health in app.state.healths():
            healths.setdefault(health.account, []).append(health)
        for account in app.config.accounts:
            roles = healths.get(account.name) or [AccountHealth(account.name)]
            for health in roles:
                name = account.name if len(roles) == 1 else f"{account.name} ({health.role})"
                table.add_row(
                    name,
                    account.connector,
                    str(messages.get(account.name, 0)),
                    _when(health.last_try, zone),
                    _when(health.last_ok, zone),
                    ("[red]paused: [/]" if health.paused else "") + escape(health.problem),
                )
        console.print(table)
        counts = Counter(e.state.value for e in app.state.ledger().values())
        console.print(
            "suggestions: "
            + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none yet")
        )
        console.print(f"state: {app.state.path}  rules: {app.config.rules_dir}")


def _when(value: datetime | None, zone: tzinfo) -> str:
    return moment(value, zone) if value else "never"


def invocation() -> str:
    """How to run this very nurture from the user's shell: "nurture" when that is what
    the shell finds, else the script's path (`make demo` runs .venv/bin/nurture)."""
    script = Path(sys.argv[0])
    found = shutil.which("nurture")
    if script.name == "nurture" and found and Path(found).resolve() == script.resolve():
        return "nurture"
    if script.name != "nurture":
        return "nurture"  # run another way (tests, python -m): the installed name
    try:
        return str(script.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(script.resolve())


def try_lines(config: Path, example: str) -> list[str]:
    """What to type next, each line whole and working as printed."""
    command = f"{invocation()} --config {_tilde(config)}"
    lines = ["", "Try it:"]
    lines += [f"  {command} {what}" for what in ("list", f"explain {example}", "status")]
    if not command.startswith("nurture "):
        folder = Path(command.split()[0]).parent
        lines.append(f"(plain `nurture` works after `. {folder}/activate`)")
    return lines


def _tilde(path: Path) -> str:
    """`path` with the home folder as "~", as a shell reads it back."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)


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
    from .sync import placed_ids, placements_table, run_sync

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
        zone = app.rules.work.zone
        console.print(
            f"\n[bold]Follow-ups nurture placed for {app.config.user_name}[/] "
            f"(demo time {moment(anchor, zone)}, {app.rules.work.timezone}):"
        )
        ids = placed_ids(app, report)
        console.print(placements_table(report, ids, zone))
        target, _ = app.target()
        calendar = app.config.account(target).options.get("calendar", "")
        console.print(f"calendar written: {calendar}", soft_wrap=True)
        example = ids[report.placements[0].suggestion.key] if report.placements else "ID"
        for line in try_lines(config, example):
            console.print(Text(line), soft_wrap=True)
        for problem in problems:
            errors.print(f"[yellow]warning:[/] {problem}")
        console.print(report.summary())
    except NurtureError as exc:
        fail(exc)
    finally:
        app.close()
