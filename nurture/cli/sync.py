"""`nurture sync`, `list`, `explain`, `dismiss`: the pipeline and its suggestions."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from rich.table import Table

from ..app import App
from ..apply import ApplyReport
from ..model import UTC, LedgerState
from ..plan import Op
from .common import app_from, console, errors, parse_now, progress_bar

log = logging.getLogger(__name__)


def run_sync(app: App, now: datetime, dry_run: bool) -> tuple[ApplyReport, list[str]]:
    """Sync every mail account, then reconcile; account failures are reported, not fatal."""
    done = app.sync_all(
        now, dry_run=dry_run, progress=lambda account: progress_bar(f"reading {account}")
    )
    for synced in done.mail:
        if synced.health.unexpected:
            log.debug("%s: mail sync failed", synced.account, exc_info=synced.error)
    assert done.calendar is not None
    return done.calendar, done.problems


def placements_table(report: ApplyReport, zone: object) -> Table:
    """kind · contact · why · when, one row per task placed."""
    table = Table(title=None, expand=False)
    table.add_column("kind", no_wrap=True)
    table.add_column("contact", max_width=24)
    table.add_column("why", ratio=1, min_width=30)
    table.add_column("when", no_wrap=True)
    for p in report.placements:
        s = p.suggestion
        when = p.start.astimezone(zone).strftime("%a %d %b %H:%M")  # type: ignore[arg-type]
        label = s.key.origin.value  # what found it: "promise" and "recap" say more than kind
        why = s.title.split(" — ", 1)[-1]  # the title without "Reply to Dana Lee"
        table.add_row(label, s.contact.display(), why, when + (" (snoozed)" if p.pinned else ""))
    return table


@click.command()
@click.option("--once", is_flag=True, help="Run one sync and exit (the daemon is `nurture run`).")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing to the calendar.")
@click.option("--now", "now_text", metavar="ISO", help="Pretend it is this time (for testing).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
@click.pass_context
def sync(ctx: click.Context, once: bool, dry_run: bool, now_text: str | None, quiet: bool) -> None:
    """Read new mail, find who needs you, and update the calendar once.

    Ends with one line: created C, updated U, removed R, unchanged K.
    """
    now = parse_now(now_text) or datetime.now(UTC)
    with app_from(ctx) as app:
        report, problems = run_sync(app, now, dry_run)
        if dry_run:
            console.print("[bold]Plan (dry run, nothing written):[/]")
            for action in report.actions:
                if action.op is not Op.KEEP:
                    title = (
                        action.task.title
                        if action.task
                        else (action.record.title if action.record else "")
                    )
                    console.print(f"  {action.op.value:8} {action.key}  {title}")
        elif not quiet and report.placements:
            console.print(placements_table(report, app.rules.work.zone))
        if not quiet and report.weekly_report:
            console.print(f"weekly report: {report.weekly_report}")
        for problem in problems:
            errors.print(f"[yellow]warning:[/] {problem}")
        console.print(report.summary())
        if problems:
            ctx.exit(1)


@click.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include dismissed, done and resolved.")
@click.pass_context
def list_(ctx: click.Context, show_all: bool) -> None:
    """Show pending suggestions (the tasks on your calendar)."""
    with app_from(ctx) as app:
        ledger = app.state.ledger()
        rows = [e for e in ledger.values() if show_all or e.state is LedgerState.ACTIVE]
        if not rows:
            console.print("No pending suggestions." if not show_all else "Nothing recorded yet.")
            return
        table = Table()
        for column in ("key", "kind", "contact", "when", "state", "title"):
            table.add_column(column, overflow="fold")
        zone = app.rules.work.zone
        for e in sorted(rows, key=lambda e: (e.start or e.created)):
            when = e.start.astimezone(zone).strftime("%a %d %b %H:%M") if e.start else "-"
            state = e.state + (" (snoozed)" if e.detail.get("pinned") else "")
            table.add_row(e.key, e.kind, e.contact, when, state, e.title)
        console.print(table)


@click.command()
@click.argument("key")
@click.pass_context
def explain(ctx: click.Context, key: str) -> None:
    """Show why KEY was suggested: the signals, the rule that matched, and why now."""
    with app_from(ctx) as app:
        entry = app.state.ledger().get(key)
        if entry is None:
            matches = [k for k in app.state.ledger() if key in k]
            hint = f" Did you mean: {', '.join(matches[:5])}?" if matches else ""
            errors.print(f"[red]error:[/] no suggestion {key!r}.{hint} See `nurture list`.")
            ctx.exit(2)
            return
        d = entry.detail
        console.print(f"[bold]{d.get('title', entry.title)}[/]")
        console.print(f"key:      {key}")
        console.print(f"state:    {entry.state}{' (snoozed by you)' if d.get('pinned') else ''}")
        console.print(f"contact:  {d.get('contact_name') or ''} <{entry.contact}>")
        console.print(f"rule:     {d.get('rule', '')}")
        console.print(f"why now:  {d.get('why', '')}")
        console.print(f"due:      {d.get('due', '')}  (priority {d.get('priority', '')})")
        if d.get("probability") is not None:  # the personal model decided (nurture.personal)
            what = "needs your reply" if entry.kind == "reply" else "an answer was expected"
            console.print(f"learned:  {what}: {d['probability']:.0%}")
        for reason in d.get("reasons") or ():
            console.print(f"  because {reason}")
        if d.get("subject"):
            console.print(f"subject:  {d['subject']}")
        if d.get("evidence"):
            console.print(f"evidence: “{d['evidence']}”")
        mid = d.get("message_id")
        if mid:
            s = app.state.signals_of(mid)
            if s is not None:
                console.print("signals:")
                for ask in s.asks:
                    console.print(f"  asks ({ask.score:.2f}): {ask.sentence or '(cleared)'}")
                for c in s.commitments:
                    due = c.due.isoformat() if c.due else "no date"
                    console.print(f"  promise ({due}): {c.sentence or '(cleared)'}")
                console.print(
                    f"  tone: upset {s.upset:.2f}"
                    + (f" — “{s.upset_sentence}”" if s.upset_sentence else "")
                )
                if s.automated:
                    console.print(f"  automated: {s.automated.value}")
        console.print(f"suggested: {d.get('action', '')}")


@click.command()
@click.argument("key")
@click.pass_context
def dismiss(ctx: click.Context, key: str) -> None:
    """Dismiss KEY for good: its task leaves the calendar and never comes back."""
    with app_from(ctx) as app:
        known = app.dismiss(key)
        console.print(f"dismissed {key}" + ("" if known else " (it was not on the calendar)"))
