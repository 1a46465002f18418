"""`nurture sync`, `list`, `explain`, `dismiss`: the pipeline and its suggestions.

Every listing speaks the same words: a key is shown by its short id (`keys`), a
kind by its label (`Origin.label`), a time in the user's zone (`durations.moment`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..app import App
from ..apply import ApplyReport
from ..durations import format_duration, moment
from ..identity import header_id
from ..model import UTC, Kind, LedgerEntry, LedgerState, NudgeKey, Origin, Suggestion
from ..plan import Action, Op
from .common import app_from, console, errors, fail, parse_now, progress_bar
from .keys import Unknown, resolve, short_ids

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


def label(key: str) -> str:
    """The kind of nudge `key` is, in the user's words ("follow up (promise)")."""
    try:
        return NudgeKey.parse(key).origin.label
    except ValueError:  # a key an older nurture wrote: show it as it is
        return key.partition(":")[0]


def _about(title: str) -> str:
    """The title without its "Reply to Dana Lee — " lead: the contact has its own column."""
    return title.split(" — ", 1)[-1]


@dataclass(frozen=True, slots=True)
class Row:
    """One nudge as every table of them shows it."""

    key: str
    contact: str
    title: str
    when: datetime | None
    note: str = ""


def nudge_table(rows: Iterable[Row], ids: Mapping[str, str], zone: tzinfo) -> Table:
    """id · kind · contact · about · when, one row per nudge."""
    table = Table()
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("kind", min_width=9, max_width=10)  # "follow up (promise)": two lines
    table.add_column("contact", max_width=18)
    table.add_column("about", ratio=1, min_width=16)
    table.add_column("when", no_wrap=True)
    for row in rows:
        when = moment(row.when, zone) if row.when else "–"
        table.add_row(
            ids[row.key],
            label(row.key),
            Text(row.contact),
            Text(_about(row.title)),
            when + (f"\n{row.note}" if row.note else ""),
        )
    return table


def placements_table(report: ApplyReport, ids: Mapping[str, str], zone: tzinfo) -> Table:
    """The nudges a sync placed, at their times."""
    return nudge_table(
        (
            Row(
                p.suggestion.key,
                p.suggestion.contact.display(),
                p.suggestion.title,
                p.start,
                "(snoozed)" if p.pinned else "",
            )
            for p in report.placements
        ),
        ids,
        zone,
    )


def placed_ids(app: App, report: ApplyReport) -> dict[str, str]:
    """Short ids for what the ledger knows and what this sync placed."""
    return short_ids([*app.state.ledger(), *(p.suggestion.key for p in report.placements)])


# What a dry run would do, in words; keeping and forgetting change nothing a user sees.
WOULD = {
    Op.CREATE: "would create",
    Op.UPDATE: "would update",
    Op.ADOPT: "would adopt",
    Op.DELETE: "would remove",
    Op.DISMISS: "would dismiss",
    Op.DONE: "would mark done",
}


def _planned(actions: list[Action], ledger: Mapping[str, LedgerEntry], zone: tzinfo) -> list[str]:
    ids = short_ids([*ledger, *(a.key for a in actions)])
    lines = []
    latest = datetime.max.replace(tzinfo=UTC)
    for action in sorted(actions, key=lambda a: (a.task.start if a.task else latest, a.key)):
        if action.op not in WOULD:
            continue
        entry = ledger.get(action.key)
        title = (
            (action.task.title if action.task else "")
            or (action.record.title if action.record else "")
            or (entry.title if entry else "")
            or action.key
        )
        when = f" at {moment(action.task.start, zone)}" if action.task else ""
        why = f" ({action.reason})" if action.reason and action.op is not Op.CREATE else ""
        lines.append(f"  {WOULD[action.op]:15} {ids[action.key]}  {title}{when}{why}")
    return lines


def would(report: ApplyReport) -> str:
    """A dry run's summary line: what a sync would do, never "created"."""
    return (
        f"would create {report.created}, update {report.updated}, remove {report.removed}, "
        f"leave {report.unchanged} unchanged"
    )


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
    with app_from(ctx, exclusive=not dry_run) as app:
        zone = app.rules.work.zone
        report, problems = run_sync(app, now, dry_run)
        if dry_run:
            lines = _planned(report.actions, app.state.ledger(), zone)
            console.print("[bold]Plan (dry run, nothing written):[/]")
            for line in lines or ["  nothing to change"]:
                console.print(Text(line), soft_wrap=True)
        elif not quiet and report.placements:
            console.print(placements_table(report, placed_ids(app, report), zone))
        if not quiet and report.weekly_report:
            console.print(f"weekly report: {report.weekly_report}")
        for problem in problems:
            errors.print(f"[yellow]warning:[/] {escape(problem)}")
        console.print(would(report) if dry_run else report.summary())
        if problems:
            ctx.exit(1)


@click.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include dismissed, done and resolved.")
@click.option(
    "--upcoming",
    is_flag=True,
    help="What will come due within the planning horizon if nobody writes, and why.",
)
@click.option("--now", "now_text", metavar="ISO", hidden=True, help="Pretend it is this time.")
@click.pass_context
def list_(ctx: click.Context, show_all: bool, upcoming: bool, now_text: str | None) -> None:
    """Show pending suggestions (the tasks on your calendar)."""
    now = parse_now(now_text) or datetime.now(UTC)
    with app_from(ctx) as app:
        if upcoming:
            _upcoming(app, now)
            return
        ledger = app.state.ledger()
        rows = [e for e in ledger.values() if show_all or e.state is LedgerState.ACTIVE]
        if not rows:
            console.print("No pending suggestions." if not show_all else "Nothing recorded yet.")
            console.print("What will come due, and when: nurture list --upcoming")
            return
        ids = short_ids(ledger)
        console.print(
            nudge_table(
                (
                    Row(
                        e.key,
                        e.detail.get("contact_name") or e.contact,
                        e.title,
                        e.start,
                        _state(e) if show_all or e.detail.get("pinned") else "",
                    )
                    for e in sorted(rows, key=lambda e: e.start or e.created)
                ),
                ids,
                app.rules.work.zone,
            )
        )
        console.print("nurture explain ID says why; nurture dismiss ID takes one away for good.")


def _state(entry: LedgerEntry) -> str:
    if entry.state is LedgerState.ACTIVE:
        return "(snoozed)" if entry.detail.get("pinned") else ""
    return f"({entry.state.value})"


def upcoming(app: App, now: datetime) -> list[Suggestion]:
    """Nudges that hold at the end of the planning horizon and not yet: what will come
    due if nobody writes (the detectors are pure, so they can be asked about later)."""
    current = {s.key for s in app.suggestions(now)}
    ledger = app.state.ledger()
    later = app.suggestions(now + app.rules.tasks.horizon)
    return sorted(
        (
            s
            for s in later
            if s.key not in current
            and s.due > now
            and not ((entry := ledger.get(s.key)) and entry.state.final)
        ),
        key=lambda s: (s.due, s.key),
    )


def _because(s: Suggestion, app: App) -> str:
    """Why `s` comes due when it does, in words."""
    tier = app.rules.tiers.get(s.tier)
    origin = s.key.origin
    if origin is Origin.REPLY and tier is not None:
        return (
            f"unless you answer first: reply window of tier {tier.name}, "
            f"{format_duration(tier.reply_within)}"
        )
    if origin is Origin.FOLLOW_UP and tier is not None:
        return (
            f"unless they answer first: follow-up window of tier {tier.name}, "
            f"{format_duration(tier.follow_up_after)}"
        )
    return {
        Origin.PROMISE: "a day before the date you promised, unless you write to them first",
        Origin.RECONNECT: "when your usual rhythm with them runs out",
        Origin.RECAP: "an hour after the meeting, unless a recap goes out",
    }.get(origin, "")


def _upcoming(app: App, now: datetime) -> None:
    zone = app.rules.work.zone
    found = upcoming(app, now)
    horizon = format_duration(app.rules.tasks.horizon)
    if not found:
        console.print(f"Nothing comes due in the next {horizon}.")
        return
    ids = short_ids([*app.state.ledger(), *(s.key for s in found)])
    table = Table(title=f"Coming due in the next {horizon} if nobody writes", title_justify="left")
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("due", no_wrap=True)
    table.add_column("kind", min_width=9, max_width=10)
    table.add_column("contact", max_width=18)
    table.add_column("about, and why then", ratio=1, min_width=16)
    for s in found:
        about = Text(s.subject or s.evidence or _about(s.title))
        about.append(f"\n{_because(s, app)}", style="dim")
        table.add_row(
            ids[s.key], moment(s.due, zone), s.key.origin.label, Text(s.contact.display()), about
        )
    console.print(table)


def _titles(ledger: Mapping[str, LedgerEntry]) -> dict[str, str]:
    return {k: e.title for k, e in ledger.items()}


@click.command()
@click.argument("key")
@click.pass_context
def explain(ctx: click.Context, key: str) -> None:
    """Show why KEY (its id from `nurture list`) was suggested: signals, rule, why now."""
    with app_from(ctx) as app:
        ledger = app.state.ledger()
        key = resolve(key, ledger, _titles(ledger))
        entry = ledger[key]
        zone = app.rules.work.zone
        d = entry.detail
        name = d.get("contact_name") or ""
        state = entry.state.value
        if entry.state is LedgerState.ACTIVE and entry.start:
            state += f", on your calendar {moment(entry.start, zone)}"
        rows = [
            ("id", f"{short_ids(ledger)[key]}  ({key})"),
            ("kind", label(key)),
            ("state", state + (" (snoozed by you)" if d.get("pinned") else "")),
            ("contact", f"{name} <{entry.contact}>" if name else entry.contact),
            ("rule", d.get("rule", "")),
            ("why now", d.get("why", "")),
        ]
        if d.get("due"):
            due = moment(datetime.fromisoformat(d["due"]), zone)
            rows.append(("nudge from", f"{due}  (priority {d.get('priority', '')})"))
        if d.get("probability") is not None:  # the personal model decided (nurture.personal)
            what = "needs your reply" if entry.kind is Kind.REPLY else "an answer was expected"
            rows.append(("learned", f"{what}: {d['probability']:.0%}"))
        rows += [("because" if i == 0 else "", r) for i, r in enumerate(d.get("reasons") or ())]
        mid = d.get("message_id")
        if d.get("subject"):
            rows.append(("subject", d["subject"]))
        if mid:  # the header's Message-ID: the key's may carry nurture's date (`identity`)
            rows.append(("message-id", f"<{header_id(mid)}>"))
        if d.get("evidence"):
            rows.append(("evidence", f"“{d['evidence']}”"))
        s = app.state.signals_of(mid) if mid else None
        if s is not None:
            rows += [("asks", f"{a.score:.2f} {a.sentence or '(cleared)'}") for a in s.asks]
            for c in s.commitments:
                due = f"due {moment(c.due, zone)}" if c.due else "no date"
                rows.append(("promise", f"{due}: {c.sentence or '(cleared)'}"))
            quote = f" — “{s.upset_sentence}”" if s.upset_sentence else ""
            rows.append(("tone", f"upset {s.upset:.2f}{quote}"))
            if s.automated:
                rows.append(("automated", s.automated.value))
        rows.append(("suggested", d.get("action", "")))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()
        for field, value in rows:
            grid.add_row(f"{field}:" if field else "", Text(value))
        console.print(Text(d.get("title", entry.title), style="bold"))
        console.print(grid)


@click.command()
@click.argument("key")
@click.pass_context
def dismiss(ctx: click.Context, key: str) -> None:
    """Dismiss KEY (an id from `nurture list`) for good: its task leaves the calendar."""
    with app_from(ctx) as app:
        ledger = app.state.ledger()
        try:
            found = resolve(key, ledger, _titles(ledger))
        except Unknown as exc:
            try:
                found = NudgeKey.parse(key)  # a whole key not on the calendar yet: dismiss ahead
            except ValueError:
                found = ""
            if not found or not NudgeKey.parse(found).ref:
                fail(exc)
                return
        known = app.dismiss(found)
        entry = ledger.get(found)
        title = f"  {entry.title}" if entry and entry.title else ""
        shown = short_ids([*ledger, found])[found]
        console.print(
            Text(
                f"dismissed {shown}{title}" + ("" if known else f" ({found}: not on the calendar)")
            )
        )
